"""Builders for the attack scenarios: cycles moved or played without Prefect, the links a mail
carries, scanner fetches, what a refusal page must not reveal, altered tokens and cookies, the
fuzzer over real data, copies of the records to tamper with, `duyet audit verify` by the CLI."""

from __future__ import annotations

import datetime as dt
import itertools
import re
import sqlite3
import string
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from itsdangerous import TimestampSigner
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.schemas import BaseSchema
from sqlalchemy import select, update
from starlette.responses import Response
from typer.testing import CliRunner, Result

from definitions.stage_rules import Stage, StepKind, kind_of
from duyet.definition_files import definitions
from duyet.engine import evaluate
from duyet.settings import Settings
from notifications.links import fill_slots, resolve_links
from portal.security import Keys, SessionData
from publishing.issue import issue_cycle_document
from records.audit import entry_hash, events
from records.cycle_reads import get_cycle
from records.cycles import advance_stage, close_rejected, publish_document
from records.documents import submit_version
from records.engine import session_scope
from records.models import AuditEvent, DocumentVersion, LinkToken, Mail
from records.tokens import hash_token
from tasks import mail as mail_tasks
from tasks.cycle import ACTOR
from tests.faults.ledger import counts
from tests.portal.factories import csrf_in, open_at, token_of_mail

# What mail security gateways and link checkers send when they fetch every link of a message.
SCANNERS = (
    "Mozilla/5.0 (compatible; Microsoft Defender for Office 365 Safe Links)",
    "Mozilla/5.0 (compatible; Barracuda Sentinel (EE))",
    "Proofpoint URL Defense/2.0 (urldefense.com)",
    "Google-Safety; +http://www.google.com/bot.html",
    "curl/8.5.0",
    "python-requests/2.32.3",
)
URL = re.compile(r"https?://[^\s\"'<>]+")
STYLE = re.compile(r"<style>.*?</style>", re.DOTALL)
HEX64 = re.compile(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")


def figures(settings: Settings) -> dict[str, int]:
    return counts(settings.database_url)


def delta(before: Mapping[str, int], after: Mapping[str, int]) -> dict[str, int]:
    """What changed between two `counts`, without the figures that did not."""
    return {key: after[key] - before[key] for key in before if after[key] != before[key]}


def last_seq(settings: Settings) -> int:
    with session_scope(settings.database_url) as session:
        return max(session.scalars(select(AuditEvent.seq)).all(), default=0)


def actions_since(settings: Settings, seq: int) -> Counter[str]:
    """The audit actions appended after entry `seq`, counted."""
    with session_scope(settings.database_url) as session:
        return Counter(e.action for e in events(session) if e.seq > seq)


def set_link(settings: Settings, token: str, **values: object) -> None:
    """Edit a link's stored row directly, as someone with write access to the database would."""
    with session_scope(settings.database_url) as session:
        session.execute(
            update(LinkToken).where(LinkToken.token_hash == hash_token(token)).values(**values)
        )


def link_row(settings: Settings, token: str) -> dict[str, object]:
    with session_scope(settings.database_url) as session:
        link = session.scalars(
            select(LinkToken).where(LinkToken.token_hash == hash_token(token))
        ).one()
        return {
            "cycle_id": link.cycle_id,
            "stage": link.stage,
            "round": link.round,
            "recipient_unit": link.recipient_unit,
            "document_sha256": link.document_sha256,
        }


def requests_now(settings: Settings, cycle_id: str) -> dict[str, str]:
    """Queue the requests of the cycle's stage and round; unit -> raw token."""
    defs = definitions(settings)
    now = dt.datetime.now(dt.UTC)
    with session_scope(settings.database_url) as session:
        view = evaluate(session, defs, cycle_id=cycle_id, now=now)
        mails = mail_tasks.queue_requests(session, settings, defs, view, now=now)
        return {mail.recipient: token_of_mail(session, settings, mail) for mail in mails}


def move(
    settings: Settings, cycle_id: str, target: Stage, *, next_round: bytes | None = None
) -> None:
    """The Office moves the cycle on by hand; with `next_round`, back to draft and a new version
    first (the reviewers asked for changes), then to `target`."""
    defs = definitions(settings)
    deadline = defs.deadline(defs.today(dt.datetime.now(dt.UTC)), 10)
    with session_scope(settings.database_url) as session:
        if next_round is not None:
            advance_stage(
                session, cycle_id=cycle_id, target=Stage.DRAFT, actor="office", round_change=1
            )
            submit_version(
                session,
                cycle_id=cycle_id,
                content=next_round,
                filename="du-thao-vong-2.txt",
                media_type="text/plain",
                submitted_by="office",
                max_bytes=settings.max_document_bytes,
            )
        advance_stage(
            session, cycle_id=cycle_id, target=target, actor="office", stage_deadline=deadline
        )


def step(settings: Settings, cycle_id: str) -> str:
    """What the flow run does once a stage is decided (`tasks.cycle.apply_step`, then the next
    stage's requests), in one transaction and without Prefect; the step taken."""
    defs = definitions(settings)
    now = dt.datetime.now(dt.UTC)
    with session_scope(settings.database_url) as session:
        view = evaluate(session, defs, cycle_id=cycle_id, now=now)
        line = defs.line(view.plan_id, view.code)
        if view.step in (StepKind.ADVANCE, StepKind.BACK_TO_DRAFT):
            assert view.target is not None
            days = defs.stage(line, view.target).deadline_days
            advance_stage(
                session,
                cycle_id=cycle_id,
                target=view.target,
                actor=ACTOR,
                round_change=1 if view.step == StepKind.BACK_TO_DRAFT else 0,
                stage_deadline=defs.deadline(defs.today(now), days),
                now=now,
            )
            moved = evaluate(session, defs, cycle_id=cycle_id, now=now)
            mail_tasks.queue_requests(session, settings, defs, moved, now=now)
        elif view.step == StepKind.PUBLISH:
            issued = issue_cycle_document(
                session, settings, defs, cycle_id=cycle_id, actor=ACTOR, now=now
            )
            publish_document(session, cycle_id=cycle_id, actor=ACTOR, now=now)
            mail_tasks.published(session, settings, defs, view, issued)
        elif view.step == StepKind.CLOSE_REJECTED:
            close_rejected(session, cycle_id=cycle_id, actor=ACTOR, verdict=str(view.verdict))
        return str(view.step)


def mail_urls(settings: Settings, cycle_id: str, *, after_id: int = 0) -> dict[int, list[str]]:
    """Every portal URL in the cycle's mails queued after `after_id` (links derived again, as
    the sender does when it delivers), by mail id."""
    base = settings.require_public_base_url()
    found: dict[int, list[str]] = {}
    with session_scope(settings.database_url) as session:
        query = select(Mail).where(Mail.cycle_id == cycle_id, Mail.id > after_id)
        for mail in session.scalars(query.order_by(Mail.id)):
            urls = resolve_links(session, settings=settings, mail=mail)
            bodies = (
                fill_slots(mail.text_body, urls, html_body=False),
                fill_slots(mail.html_body or "", urls, html_body=True),
            )
            seen = {u.replace("&amp;", "&") for body in bodies for u in URL.findall(body)}
            found[mail.id] = sorted(u for u in seen if u.startswith(base))
    return found


def scan(client: httpx.Client, urls: Iterable[str], method: str, *, times: int = 2) -> Counter[str]:
    """Every scanner fetches every URL with `method`, `times` over; the statuses seen."""
    statuses: Counter[str] = Counter()
    for _ in range(times):
        for agent in SCANNERS:
            for url in urls:
                answer = client.request(method, url, headers={"User-Agent": agent})
                assert answer.status_code < 500, (method, url, answer.status_code)
                statuses[f"{method} {answer.status_code}"] += 1
    return statuses


DRAFT_TEXT = "I. MỤC ĐÍCH, YÊU CẦU\nRà soát quy định thủ tục hành chính, vòng {round}.\n"


def answer_link(client: httpx.Client, token: str, **form: str) -> httpx.Response:
    """A person opens the link from the mail and answers with the page's form."""
    page = client.get(f"/r/{token}")
    assert page.status_code == 200, page.text[:300]
    return client.post(f"/r/{token}", data={"csrf": csrf_in(page)} | form)


@dataclass
class Played:
    mails: int = 0
    links: int = 0
    answers: int = 0
    steps: list[str] = field(default_factory=list)


def play(
    client: httpx.Client,
    settings: Settings,
    cycle_id: str,
    *,
    changes_in_round_1: bool = True,
    on_mail: Callable[[list[str]], None] | None = None,
) -> Played:
    """Drive the cycle to its end as its people would: each new batch of mail is first handed
    to `on_mail` (its URLs), then everyone asked answers through their link, then the stage
    rules move the cycle on. Round 1's first reviewer asks for changes."""
    played, seen = Played(), 0
    while True:
        batch = mail_urls(settings, cycle_id, after_id=seen)
        seen = max(batch, default=seen)
        urls = [url for found in batch.values() for url in found]
        tokens = [url.rsplit("/r/", 1)[1] for url in urls if "/r/" in url]
        played.mails += len(batch)
        played.links += len(tokens)
        if on_mail is not None:
            on_mail(urls)
        stage, round_, status = stage_of(settings, cycle_id)
        if status != "open":
            return played
        for index, token in enumerate(tokens):
            kind = kind_of(stage)
            if kind == Stage.DRAFT:
                form = {"decision": "submit", "text": DRAFT_TEXT.format(round=round_)}
            elif kind == Stage.REVIEW and round_ == 1 and index == 0 and changes_in_round_1:
                form = {"decision": "request_changes", "comment": "Bổ sung căn cứ pháp lý."}
            elif kind == Stage.APPROVAL and index > 0:
                continue  # the first member of the board is enough
            else:
                form = {"decision": "approve", "comment": "Thống nhất."}
            answered = answer_link(client, token, **form)
            assert answered.status_code == 200, answered.text[:300]
            played.answers += 1
        played.steps.append(step(settings, cycle_id))


def stage_of(settings: Settings, cycle_id: str) -> tuple[str, int, str]:
    with session_scope(settings.database_url) as session:
        cycle = get_cycle(session, cycle_id=cycle_id)
        return cycle.stage, cycle.round, cycle.status


def secrets_of(settings: Settings, cycle_id: str) -> list[str]:
    """What a refusal page must never show about a cycle: line code and title, document names
    and hashes, the units it involves. Not the Office: every refusal names it as the contact."""
    defs = definitions(settings)
    office = defs.directory.roles.office
    with session_scope(settings.database_url) as session:
        cycle = get_cycle(session, cycle_id=cycle_id)
        versions = session.scalars(
            select(DocumentVersion).where(DocumentVersion.cycle_id == cycle_id)
        ).all()
        units = set(
            session.scalars(select(LinkToken.recipient_unit).where(LinkToken.cycle_id == cycle_id))
        )
        title = defs.line(cycle.plan_key, cycle.line_code).title
        documents = [v.filename for v in versions] + [v.sha256 for v in versions]
        code = cycle.line_code
    names = [defs.directory.unit(u).name for u in units if u != office]
    return [code, title, cycle_id, *documents, *names]


def leaks(body: str, secrets: Iterable[str], *, hashes: bool = True) -> list[str]:
    """What of `secrets` (as whole words), or any sha256-like hex, a page shows."""
    body = STYLE.sub("", body)  # "line-height:1.5" is no line code
    shown = [s for s in secrets if s and re.search(rf"(?<![\w.]){re.escape(s)}(?![\w.])", body)]
    return shown + (HEX64.findall(body) if hashes else [])


def audit_cli(database_url: str, *args: str) -> Result:
    """`duyet audit ARGS…` against this records database, as an operator runs it."""
    from duyet.cli import app

    env = {"DUYET_DATABASE_URL": database_url, "COLUMNS": "200"}
    alone = ["--no-anchors"] if args[:1] == ("verify",) else []  # the chain, not Prefect's copy
    return CliRunner().invoke(app, ["audit", *args, *alone], env=env)


PATH_PARAMETER = re.compile(r"{(\w+)}")
FUZZ = hypothesis_settings(
    max_examples=8,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def _with_paths(pair: tuple[Case[Any], dict[str, str | None]]) -> Case[Any]:
    case, picked = pair
    chosen = {name: value for name, value in picked.items() if value is not None}
    case.path_parameters = {**(case.path_parameters or {}), **chosen}
    return case


def _sender(
    strategy: st.SearchStrategy[Case[Any]],
    cookies: dict[str, str] | None,
    statuses: Counter[str],
) -> Callable[[], None]:
    """A hypothesis test sending the cases of `strategy` with `cookies`; no 5xx allowed."""

    @FUZZ
    @given(case=strategy)
    def send(case: Case[Any]) -> None:
        response = case.call_and_validate(checks=[not_a_server_error], cookies=cookies)
        statuses[f"{case.method} {response.status_code}"] += 1

    return send


def fuzz(
    schema: BaseSchema,
    real: Mapping[str, Sequence[str]],
    identities: Sequence[dict[str, str] | None],
) -> Counter[str]:
    """Every operation but /healthz (its 503 is by design), valid and invalid input, as each
    identity (session cookies; None: anonymous); valid input's path parameters often taken
    from `real` (things that exist). No 5xx allowed. The statuses seen."""
    statuses: Counter[str] = Counter()
    nothing_invalid: set[str] = set()  # operations without constrained input, found once
    for cookies, result in itertools.product(identities, schema.get_all_operations()):
        operation = result.ok()  # Err: an invalid schema fails here
        if operation.path == "/healthz":
            continue
        picks = st.fixed_dictionaries(
            {
                name: st.sampled_from([*real[name], None])  # None: the fuzzer's own
                for name in PATH_PARAMETER.findall(operation.path)
            }
        )
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            if mode is GenerationMode.NEGATIVE and operation.label in nothing_invalid:
                continue
            strategy = operation.as_strategy(generation_mode=mode)
            if mode is GenerationMode.POSITIVE:  # invalid input keeps its invalid paths
                strategy = st.tuples(strategy, picks).map(_with_paths)
            try:
                _sender(strategy, cookies, statuses)()
            except Unsatisfiable:  # nothing invalid to send: no constrained input
                assert mode is GenerationMode.NEGATIVE, operation.label
                nothing_invalid.add(operation.label)
    return statuses


B64URL = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"


def flip(text: str) -> str:
    """Base64url `text` with one bit of its middle character flipped."""
    at = len(text) // 2
    return text[:at] + B64URL[B64URL.index(text[at]) ^ 1] + text[at + 1 :]


def flip_part(token: str, part: int) -> str:
    """The token with one bit of its random (0) or MAC (1) part flipped."""
    pieces = token.split(".")
    pieces[part] = flip(pieces[part])
    return ".".join(pieces)


def signed_ago(monkeypatch: pytest.MonkeyPatch, seconds: int, make: Callable[[], str]) -> str:
    """What `make` signs, stamped `seconds` ago (itsdangerous reads the signer's clock)."""
    stamp = int(time.time()) - seconds
    with monkeypatch.context() as patch:
        patch.setattr(TimestampSigner, "get_timestamp", lambda self: stamp)
        return make()


def cookie_of(keys: Keys, session: SessionData) -> str:
    """The session cookie `keys` would set for `session`."""
    response = Response()
    keys.set_session(response, session)
    return response.headers["set-cookie"].split(";", 1)[0].split("=", 1)[1]


def publish(settings: Settings, client: httpx.Client, code: str) -> str:
    """A cycle of `code` approved through its link and published without Prefect; its id."""
    at_approval = open_at(settings, code, Stage.APPROVAL)
    assert answer_link(client, at_approval.first, decision="approve").status_code == 200
    assert [step(settings, at_approval.cycle_id) for _ in range(2)] == ["advance", "publish"]
    return at_approval.cycle_id


def sqlite_copy(database_url: str, target: Path) -> str:
    """A copy of a SQLite records database (WAL included, by SQLite's backup); its URL."""
    with (
        closing(sqlite3.connect(database_url.removeprefix("sqlite:///"))) as source,
        closing(sqlite3.connect(target)) as copy,
    ):
        source.backup(copy)
    return f"sqlite:///{target}"


def sql(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def entry_copy(row: AuditEvent) -> AuditEvent:
    columns = ("seq", "at", "actor", "action", "subject", "payload", "prev_hash", "hash")
    return AuditEvent(**{column: getattr(row, column) for column in columns})


def rehashed(rows: list[AuditEvent], start: int) -> list[str]:
    """UPDATEs that give every row from `start` on the hash its (edited) entry and predecessor
    call for: what someone who read `records.audit` would do after editing one."""
    statements, previous = [], next(r.hash for r in rows if r.seq == start - 1)
    for row in (r for r in rows if r.seq >= start):
        row.prev_hash = previous
        row.hash = previous = entry_hash(row)
        statements.append(
            f"UPDATE audit_events SET payload = {sql(row.payload)}, prev_hash = "
            f"{sql(row.prev_hash)}, hash = {sql(row.hash)} WHERE seq = {row.seq}"
        )
    return statements
