"""Queueing one mail: issue its links, render it, write the outbox row, all in the caller's
transaction. Used by `notifications.dispatch`; the flows call that."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from definitions.stage_rules import Stage, kind_of
from definitions.units import UnitDirectory
from duyet.settings import Settings
from notifications import facts
from notifications.context import Action, Base, Comment, Document, StageName
from notifications.links import Binding, issue_link, slot
from notifications.mail import MailKind
from notifications.recipients import Recipient, of_unit, units_of
from notifications.render import render
from records import audit
from records.cycles import require_at
from records.errors import CycleClosed, CycleMoved
from records.models import Mail as OutboxMail
from records.models import ReviewCycle
from records.outbox import enqueue_mail, find_mail, mail_key


@dataclass(frozen=True)
class Parts:
    """What every request of one call shares, with the recipient's own link."""

    to: Recipient
    common: dict[str, Any]  # sender, recipient, issued_at, line, round
    action: Action
    document: Document | None


@dataclass(frozen=True)
class Links:
    """Issues the links of one mail: their tokens derive from the mail's key (`seed`)."""

    outbox: Outbox
    seed: str
    to: Recipient

    def action(
        self, *, cycle_id: str, stage: str, round: int, document_sha256: str, deadline: date
    ) -> Action:
        out = self.outbox
        binding = Binding(cycle_id, stage, round, self.to.unit_id, document_sha256)
        link_id = issue_link(
            out.session,
            settings=out.settings,
            seed=self.seed,
            binding=binding,
            recipient_email=self.to.email,
            deadline=deadline,
            actor=out.actor,
            now=out.now,
        )
        domain = out.directory.organisation.mail_domain
        return Action(
            url=slot(link_id),
            stage=stage_name(stage),
            round=round,
            deadline=deadline,
            calendar_uid=f"{cycle_id}-{stage}-r{round}-{self.to.unit_id}@{domain}",
        )


@dataclass(frozen=True)
class Outbox:
    """One dispatch call's view of the outbox."""

    session: Session
    settings: Settings
    directory: UnitDirectory
    actor: str
    now: datetime

    @classmethod
    def open(
        cls,
        session: Session,
        *,
        settings: Settings,
        directory: UnitDirectory,
        actor: str,
        now: datetime | None,
    ) -> Outbox:
        audit.lock(session)  # before the first read: replays and concurrent calls queue up
        return cls(session, settings, directory, actor, now or audit.utcnow())

    def key(
        self,
        kind: MailKind,
        *,
        cycle_id: str | None,
        stage: str,
        round: int,
        to: Recipient,
        variant: str | None = None,
    ) -> str:
        return mail_key(
            cycle_id=cycle_id,
            stage=stage,
            round=round,
            recipient=to.unit_id,
            kind=kind,
            variant=variant,
        )

    def comments(
        self, cycle: ReviewCycle, *, round: int, stage: str | None = None
    ) -> list[Comment]:
        """Every decision of a round (of one stage, or all), compiled for a mail."""
        return facts.comments_of(
            self.session,
            self.directory,
            cycle_id=cycle.id,
            round=round,
            stage=stage,
            zone=self.settings.timezone,
        )

    def queued(self, key: str) -> OutboxMail | None:
        return find_mail(self.session, idempotency_key=key)

    def queue(
        self,
        kind: MailKind,
        *,
        cycle_id: str | None,
        stage: str,
        round: int,
        to: Recipient,
        build: Callable[[Links], Base],
        variant: str | None = None,
    ) -> OutboxMail:
        """Queue one mail once: if its key is queued already, no link is issued again."""
        key = self.key(kind, cycle_id=cycle_id, stage=stage, round=round, to=to, variant=variant)
        existing = self.queued(key)
        if existing is not None:
            return existing
        mail = render(kind, build(Links(self, key, to)))
        return enqueue_mail(
            self.session,
            cycle_id=cycle_id,
            stage=stage,
            round=round,
            recipient=to.unit_id,
            kind=kind,
            to_addr=to.email,
            subject=mail.subject,
            text=mail.text,
            html=mail.html,
            message_domain=self.directory.organisation.mail_domain,
            actor=self.actor,
            attachments=[item.to_record() for item in mail.attachments],
            now=self.now,
            variant=variant,
        )

    def requests(
        self,
        kind: MailKind,
        *,
        cycle: ReviewCycle,
        stage: str,
        round: int,
        targets: Sequence[Recipient],
        deadline: date | None,
        make: Callable[[Parts], Base],
        variant: str | None = None,
        strict: bool = True,
    ) -> list[OutboxMail]:
        """One mail with its own link per target, at `stage` and `round` of `cycle`.

        Already queued: returned as they are, whatever the cycle does now (a replay). The rest
        need the cycle still there; else `strict` raises and a lenient caller gets what was queued.
        """
        keys = [
            self.key(kind, cycle_id=cycle.id, stage=stage, round=round, to=t, variant=variant)
            for t in targets
        ]
        queued = [self.queued(key) for key in keys]
        done = [row for row in queued if row is not None]
        if len(done) == len(targets):
            return done
        try:
            require_at(cycle, stage=stage, round=round)
        except (CycleMoved, CycleClosed):
            if strict:
                raise
            return done
        day = facts.deadline_of(cycle, settings=self.settings, given=deadline)
        document, sha256 = facts.bound_document(
            self.session, cycle_id=cycle.id, stage=stage, round=round
        )
        shared = {
            "sender": facts.sender_of(self.directory, self.settings),
            "issued_at": self.now,
            "line": facts.line_of(self.session, cycle),
            "round": round,
        }
        rows: list[OutboxMail] = []
        for target in targets:

            def build(links: Links, target: Recipient = target) -> Base:
                action = links.action(
                    cycle_id=cycle.id,
                    stage=stage,
                    round=round,
                    document_sha256=sha256,
                    deadline=day,
                )
                common = shared | {"recipient": target.salutation}
                return make(Parts(target, common, action, document))

            rows.append(
                self.queue(
                    kind,
                    cycle_id=cycle.id,
                    stage=stage,
                    round=round,
                    to=target,
                    build=build,
                    variant=variant,
                )
            )
        return rows


def targets(
    directory: UnitDirectory,
    units: Sequence[str] | None,
    *,
    default: Iterable[str],
    exclude: Iterable[str] = (),
    fallback: str | None = None,
) -> list[Recipient]:
    """`units` if given; else `default` but `exclude`, or `fallback` when that leaves nobody."""
    if units is not None:
        return [of_unit(unit) for unit in units_of(directory, units)]
    excluded = {unit.id for unit in units_of(directory, exclude)}
    found = [unit for unit in units_of(directory, default) if unit.id not in excluded]
    if not found and fallback is not None:
        found = [directory.unit(fallback)]
    return [of_unit(unit) for unit in found]


def stage_name(stage: str) -> StageName:
    if kind_of(stage) not in (Stage.DRAFT, Stage.REVIEW, Stage.APPROVAL, Stage.PUBLICATION):
        raise ValueError(f"no mail acts on stage {stage!r}")
    return stage
