"""Delivering the outbox over SMTP: at least once, each copy with the row's stable Message-ID.

A row is marked sent in its own transaction right after the server accepts it. A sender that
dies between the two has delivered a mail it did not record: after its claim lapses the mail
is sent again, the same message with the same Message-ID. A server that cannot be reached
costs no attempt; a message the server refuses, or loses the connection on, costs one, and
after `mail_max_attempts` the row is dead and the Office is told, once.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from definitions.units import UnitDirectory
from duyet.settings import Settings
from notifications.delivery import DeliveryReport as DeliveryReport
from notifications.delivery import DeliveryRun, describe_error, directory_of
from notifications.delivery import DirectoryOf as DirectoryOf
from notifications.delivery import backoff as backoff
from notifications.delivery import claim_lease as claim_lease
from notifications.smtp import CONNECTION_ERRORS, Connection
from records import audit
from records.engine import make_engine, session_factory
from records.outbox import due_mail

DEFAULT_LIMIT = 5000  # rows per run


async def deliver_due(
    sessions: sessionmaker[Session],
    settings: Settings,
    *,
    directory: UnitDirectory | DirectoryOf,
    now: datetime | None = None,
    limit: int = DEFAULT_LIMIT,
    rng: random.Random | None = None,
) -> DeliveryReport:
    """Send the due rows (up to `limit`) over one connection, reopened if the server drops it;
    `directory` is the one department's, or how to find each mail's (several plans)."""
    clock: Callable[[], datetime] = (lambda: now) if now is not None else audit.utcnow
    connection = Connection(settings)
    report = DeliveryReport(server=connection.server)
    with sessions.begin() as session:
        if not due_mail(session, now=clock(), limit=1):
            return report
    run = DeliveryRun(sessions, settings, directory_of(directory), connection, report, clock, rng)
    try:
        await connection.open()
    except CONNECTION_ERRORS as error:
        report.error = describe_error(error)
        return report
    try:
        await run.deliver(limit)
    finally:
        await connection.close()
        report.connections = connection.opened
    return report


async def run_sender(
    sessions: sessionmaker[Session],
    settings: Settings,
    *,
    directory: UnitDirectory | DirectoryOf,
    interval: float,
    stop: asyncio.Event,
    on_report: Callable[[DeliveryReport], None] | None = None,
) -> None:
    """Deliver every `interval` seconds until `stop` is set; longer while the server is down."""
    wait = interval
    while not stop.is_set():
        report = await deliver_due(sessions, settings, directory=directory)
        if on_report is not None:
            on_report(report)
        ceiling = max(interval, settings.mail_backoff_max_seconds)
        wait = min(wait * 2, ceiling) if report.error else interval
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=wait)


def send_due(
    settings: Settings,
    *,
    directory: UnitDirectory | DirectoryOf,
    now: datetime | None = None,
    limit: int = DEFAULT_LIMIT,
) -> DeliveryReport:
    """`deliver_due` for synchronous callers (the CLI), on an engine of its own."""
    engine = make_engine(settings.database_url)
    try:
        sessions = session_factory(engine)
        return asyncio.run(
            deliver_due(sessions, settings, directory=directory, now=now, limit=limit)
        )
    finally:
        engine.dispose()
