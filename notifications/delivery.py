"""One run of the outbox sender: claim due rows, build their messages, hand them to the SMTP
server over one connection and record each outcome, in order (`DeliveryRun`); and what a run
reports. `notifications.sender` runs it."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.errors import MessageError
from typing import Any, TypeVar

import aiosmtplib
from sqlalchemy.orm import Session, sessionmaker

from definitions.units import UnitDirectory
from duyet.settings import Settings, SettingsError
from notifications.links import LinkMismatch
from notifications.message import Materials, MissingDocument, build, gather, sender_address, wire
from notifications.notices import notify_dead_letter
from notifications.smtp import CONNECTION_ERRORS, SEND_ERRORS, Connection
from records.outbox import claim_due, get_mail, mark_failed, mark_sent, release_claims

T = TypeVar("T")
# The unit directory a mail goes out under, from the cycle it is about (None: no cycle): its
# plan's department gives the envelope sender and the Office told of a dead letter.
DirectoryOf = Callable[[Session, str | None], UnitDirectory]
ACTOR = "mailer"
CHUNK = 25  # rows claimed at a time


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0  # refused or interrupted, to be retried after a backoff
    dead: int = 0  # gave up; the Office is told
    connections: int = 0
    error: str | None = None  # why the run stopped early: the server cannot be reached…
    server: str = ""


def backoff(attempts: int, *, settings: Settings, rng: random.Random | None = None) -> timedelta:
    """The wait after the `attempts`-th failure: doubling from `mail_backoff_seconds`, capped at
    `mail_backoff_max_seconds`, with equal jitter (half fixed, half random)."""
    ceiling = settings.mail_backoff_max_seconds
    delay = min(ceiling, settings.mail_backoff_seconds * 2 ** min(attempts - 1, 62))
    half = delay / 2
    return timedelta(seconds=half + (rng or random).uniform(0, half))


def claim_lease(settings: Settings) -> timedelta:
    """How long claimed rows wait for this sender: time to try a whole chunk, with margin."""
    return timedelta(seconds=settings.smtp_timeout * (CHUNK + 2))


@dataclass(frozen=True)
class _Claimed:
    """A claimed row, read in the claim's transaction: what to build, or why it cannot be."""

    mail_id: int
    recipient: str
    directory: UnitDirectory
    materials: Materials | None
    error: str | None = None


def directory_of(directory: UnitDirectory | DirectoryOf) -> DirectoryOf:
    if isinstance(directory, UnitDirectory):
        return lambda _session, _cycle_id: directory
    return directory


@dataclass
class DeliveryRun:
    """One run: the event loop talks SMTP; the records are read and written one transaction
    at a time, in order, on a thread of their own; messages are built on another, the next
    while the one before is sent. A mail's envelope (MAIL FROM, RCPT TO) goes out while the one
    before is being recorded sent; its DATA, which the server's acceptance answers, only once
    that is done: a crash between acceptance and record resends one mail, never more."""

    sessions: sessionmaker[Session]
    settings: Settings
    directory_of: DirectoryOf
    connection: Connection
    report: DeliveryReport
    clock: Callable[[], datetime]
    rng: random.Random | None
    records: ThreadPoolExecutor = field(init=False)
    builder: ThreadPoolExecutor = field(init=False)
    _marking: asyncio.Future[None] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.records = ThreadPoolExecutor(1, thread_name_prefix="mailer-records")
        self.builder = ThreadPoolExecutor(1, thread_name_prefix="mailer-build")

    async def deliver(self, limit: int) -> None:
        try:
            try:
                await self._deliver(limit)
            finally:
                await self._recorded()
        finally:
            self.records.shutdown(cancel_futures=True)
            self.builder.shutdown(cancel_futures=True)

    async def _in_records(self, call: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.records, call, *args)

    async def _deliver(self, limit: int) -> None:
        lease = claim_lease(self.settings)
        remaining = limit
        while remaining > 0:
            moment = self.clock()
            try:
                claimed = await self._in_records(self._claim, moment, lease, min(CHUNK, remaining))
            except SettingsError as error:  # nothing claimed: the claim rolled back
                self.report.error = str(error)
                return
            if not claimed:
                return
            built = [self.builder.submit(self._build, row) for row in claimed]
            for index, row in enumerate(claimed):
                remaining -= 1
                if not await self._one(row, asyncio.wrap_future(built[index])):
                    for later in built[index:]:
                        later.cancel()
                    ids = [row.mail_id for row in claimed[index:]]
                    await self._in_records(self._release, ids, moment + lease)
                    return

    def _claim(self, moment: datetime, lease: timedelta, limit: int) -> list[_Claimed]:
        """Claim due rows and read what their messages need, in one transaction."""
        found = []
        with self.sessions.begin() as session:
            for mail in claim_due(session, now=moment, lease=lease, limit=limit):
                directory = self.directory_of(session, mail.cycle_id)
                try:
                    materials = gather(session, mail, settings=self.settings)
                except (LinkMismatch, MissingDocument, ValueError) as error:
                    found.append(_Claimed(mail.id, mail.to_addr, directory, None, _error(error)))
                    continue
                session.expunge(mail)  # built on another thread, after the commit
                found.append(_Claimed(mail.id, mail.to_addr, directory, materials))
        return found

    def _build(self, row: _Claimed) -> bytes:
        assert row.materials is not None
        return wire(build(row.materials, settings=self.settings, directory=row.directory))

    async def _one(self, row: _Claimed, built: asyncio.Future[bytes]) -> bool:
        """Try one row; False when the run must stop (server gone)."""
        if row.error is not None:
            await self._in_records(self._failed, row.mail_id, row.error)
            return True
        try:
            message = await built
        except (MessageError, ValueError) as error:
            await self._in_records(self._failed, row.mail_id, _error(error))
            return True
        if not self.connection.connected:
            await self._recorded()  # a new connection: nothing to overlap with
            try:
                await self.connection.open()
            except CONNECTION_ERRORS as error:
                self.report.error = describe_error(error)
                return False
        sender = sender_address(self.settings, row.directory)
        try:  # the envelope goes out while the mail before is being recorded sent
            await self.connection.address(message, sender=sender, recipient=row.recipient)
        except SEND_ERRORS as error:
            await self._refused(row, error)
            return True
        await self._recorded()  # only then may the server accept this one
        try:
            await self.connection.hand_over(message)
        except SEND_ERRORS as error:
            await self._refused(row, error)
            return True
        self._marking = asyncio.ensure_future(self._in_records(self._mark_sent, row.mail_id))
        return True

    async def _recorded(self) -> None:
        """Wait until the mail handed over last is recorded sent (raises what recording did)."""
        marking, self._marking = self._marking, None
        if marking is not None:
            await marking

    async def _refused(self, row: _Claimed, error: BaseException) -> None:
        await self._in_records(self._failed, row.mail_id, describe_error(error))
        if isinstance(error, CONNECTION_ERRORS):
            # After DATA the server may have taken the message before the line went: it may
            # come twice (same Message-ID).
            await self.connection.close()
        elif getattr(error, "code", None) == 421:  # "service closing": reconnect for the next
            await self.connection.close()

    def _mark_sent(self, mail_id: int) -> None:
        with self.sessions.begin() as session:
            mark_sent(session, mail_id=mail_id, actor=ACTOR, now=self.clock())
        self.report.sent += 1

    def _failed(self, mail_id: int, error: str) -> None:
        moment = self.clock()
        with self.sessions.begin() as session:
            failed = get_mail(session, mail_id=mail_id)
            attempts = failed.attempts + 1
            mail = mark_failed(
                session,
                mail_id=mail_id,
                error=error,
                backoff=backoff(attempts, settings=self.settings, rng=self.rng),
                max_attempts=self.settings.mail_max_attempts,
                actor=ACTOR,
                now=moment,
            )
            if mail.status == "dead":
                notify_dead_letter(
                    session,
                    settings=self.settings,
                    directory=self.directory_of(session, failed.cycle_id),
                    mail_id=mail_id,
                    actor=ACTOR,
                    now=moment,
                )
                self.report.dead += 1
            else:
                self.report.failed += 1

    def _release(self, ids: list[int], claimed_until: datetime) -> None:
        with self.sessions.begin() as session:
            release_claims(session, mail_ids=ids, claimed_until=claimed_until, now=self.clock())


def _error(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def describe_error(error: BaseException) -> str:
    """What the server said, as the Office will read it in the dead-letter mail."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return "; ".join(f"{r.code} {r.message} <{r.recipient}>" for r in error.recipients)
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return f"{error.code} {error.message} ({type(error).__name__})"
    return f"{type(error).__name__}: {error}".strip()
