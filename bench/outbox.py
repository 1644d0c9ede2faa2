"""The outbox: 5,000 review requests delivered by duyet's sender (claim, build with the links,
send, mark sent with its audit event, over one connection) against the same 5,000 messages,
built beforehand, sent with bare aiosmtplib over one reused connection (`raw`); and, to tell the
email package's part from the records', bare aiosmtplib building each message from the row in
memory with duyet's own `build_message` (`raw_build`). All to one aiosmtpd server on loopback,
in a process of its own (`python -m bench.sink`); records on SQLite."""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import aiosmtplib
from sqlalchemy import update

from bench.common import Figures, Outcome, free_port, ratio
from bench.cycles import at_review, review_lines, reviewers, seed_plan
from duyet.definition_files import definitions
from duyet.records_bridge import record_import
from duyet.settings import PROJECT_ROOT, Settings, get_settings
from notifications.links import resolve_links
from notifications.message import build_message, prepare, sender_address
from notifications.sender import send_due
from records import migrate
from records.engine import session_scope
from records.models import Mail

MAILS = 5000


@contextmanager
def sink_process() -> Iterator[tuple[int, list[int]]]:
    """A counting aiosmtpd in its own process; (port, [messages it accepted] once stopped)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.sink", "--port", str(port)],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    if process.stdout.readline().strip() != "ready":
        raise RuntimeError("the SMTP sink did not start")
    counted: list[int] = []
    try:
        yield port, counted
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=30)
        counted.append(int(out.split()[-1]))


def records(root: Path, port: int) -> Settings:
    """A records database with the seed plan, mailing to `port`."""
    settings = get_settings(
        {
            "DUYET_VAR_DIR": str(root / "var"),
            "DUYET_SECRET_KEY": secrets.token_urlsafe(32),
            "DUYET_PUBLIC_BASE_URL": "http://127.0.0.1:8000",
            "DUYET_SMTP_HOST": "127.0.0.1",
            "DUYET_SMTP_PORT": str(port),
        }
    )
    migrate.upgrade(settings.database_url)
    record_import(seed_plan(settings), settings=settings, actor="bench")
    return settings


def queue(settings: Settings, count: int) -> list[int]:
    """At least `count` review requests queued (the lines with the most reviewers); their ids."""
    code = max(review_lines(settings), key=lambda c: reviewers(settings, c))
    per_cycle = reviewers(settings, code)
    for start in range(0, math.ceil(count / per_cycle), 50):
        at_review(settings, [code] * min(50, math.ceil(count / per_cycle) - start), mark_sent=False)
    with session_scope(settings.database_url) as session:
        ids = session.query(Mail.id).filter(Mail.status == "pending").order_by(Mail.id)
        return [row.id for row in ids.limit(count)]


def requeue(settings: Settings, ids: list[int]) -> None:
    now = dt.datetime.now(dt.UTC)
    with session_scope(settings.database_url) as session:
        session.execute(
            update(Mail)
            .where(Mail.id.in_(ids))
            .values(status="pending", attempts=0, sent_at=None, next_attempt_at=now)
        )


@dataclass
class Prepared:
    """What the baselines send: the rows' messages built once, and what building needs."""

    sender: str
    sender_name: str
    messages: list[tuple[Message, str]]
    rows: list[Mail]
    urls: list[dict[int, str]]


def built(settings: Settings, ids: list[int]) -> Prepared:
    """The messages the sender would send for these rows, built once for the baselines."""
    directory = definitions(settings).directory
    with session_scope(settings.database_url) as session:
        rows = session.query(Mail).filter(Mail.id.in_(ids)).order_by(Mail.id).all()
        messages = [
            (prepare(session, m, settings=settings, directory=directory), m.to_addr) for m in rows
        ]
        urls = [resolve_links(session, settings=settings, mail=m) for m in rows]
    office = directory.unit(directory.roles.office).name
    return Prepared(sender_address(settings, directory), office, messages, rows, urls)


async def raw(port: int, prepared: Prepared, *, build: bool = False) -> float:
    """Seconds to send every message over one connection (`build`: building each first, from
    the row in memory, as `notifications.message.build_message` does)."""
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port)
    began = time.perf_counter()
    await client.connect()
    for index, (message, recipient) in enumerate(prepared.messages):
        if build:
            message = build_message(
                prepared.rows[index],
                sender=prepared.sender,
                sender_name=prepared.sender_name,
                urls=prepared.urls[index],
                documents={},
            )
        await client.send_message(message, sender=prepared.sender, recipients=[recipient])
    await client.quit()
    return time.perf_counter() - began


def measure(*, quick: bool = False) -> Outcome:
    count, repeats = (500, 1) if quick else (MAILS, 2)
    root = Path(tempfile.mkdtemp(prefix="duyet-bench-outbox-"))
    try:
        with sink_process() as (port, counted):
            settings = records(root, port)
            began = time.monotonic()
            ids = queue(settings, count)
            setup_s = time.monotonic() - began
            prepared = built(settings, ids)
            directory = definitions(settings).directory
            runs: list[Figures] = []
            for index in range(repeats):
                if index:
                    requeue(settings, ids)
                began = time.perf_counter()
                report = send_due(settings, directory=directory, limit=count)
                ours = time.perf_counter() - began
                if report.sent != count or report.connections != 1:
                    raise RuntimeError(f"duyet sent {report.sent}/{count}: {report.error}")
                theirs = asyncio.run(raw(port, prepared))
                building = asyncio.run(raw(port, prepared, build=True))
                runs.append(
                    {
                        "duyet_msgs_per_s": count / ours,
                        "raw_msgs_per_s": count / theirs,
                        "ratio": ratio(count / ours, count / theirs),
                        "raw_build_msgs_per_s": count / building,
                        "ratio_vs_build": ratio(count / ours, count / building),
                    }
                )
        if counted[0] != 3 * count * repeats:
            raise RuntimeError(f"the sink accepted {counted[0]} of {3 * count * repeats}")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    size = sum(len(m.as_bytes()) for m, _ in prepared.messages) / len(prepared.messages)
    return Outcome(
        runs,
        info={
            "mails": count,
            "db": "sqlite",
            "mean_message_bytes": round(size),
            "setup_s": round(setup_s, 1),
        },
        notes=[
            "review requests (text, HTML, calendar file) of the seed line with the most reviewers"
        ],
    )
