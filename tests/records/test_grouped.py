"""Group commit: many threads' audit writes committed together, each caller told of its own."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from records import audit
from records.engine import dispose_engines, read_scope, shared_engine
from records.grouped import GroupCommit
from records.models import AuditEvent


class Abort(BaseException):
    """Fails the whole transaction, as a database that refuses the commit does."""


def _event(number: int) -> Any:
    def write(session: Session) -> int:
        return audit.append(
            session, actor="test", action="link.opened", subject=f"s{number}", payload={}
        ).seq

    return write


def _count(url: str) -> int:
    with read_scope(url) as session:
        return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


@pytest.fixture
def grouped(db_url: str) -> Any:
    yield GroupCommit(db_url)
    dispose_engines(db_url)


def test_every_callers_write_is_committed_and_returned_to_it(db_url: str, grouped: Any) -> None:
    with ThreadPoolExecutor(30) as pool:
        seqs = list(pool.map(lambda n: grouped.write(_event(n)), range(60)))
    assert sorted(seqs) == list(range(1, 61))  # each caller got its own event's place
    with read_scope(db_url) as session:
        report = audit.verify(session)
        subjects = set(session.scalars(select(AuditEvent.subject)))
    assert report.broken is None and report.entries == 60
    assert subjects == {f"s{n}" for n in range(60)}


def _queued_behind_a_held_writer(grouped: Any, writes: list[Any]) -> list[Any]:
    """Submit `writes` while the writer is busy, so that they make one batch; their futures."""
    release = threading.Event()

    def hold(session: Session) -> None:
        release.wait(10)

    pool = ThreadPoolExecutor(len(writes) + 1)
    first = pool.submit(grouped.write, hold)
    time.sleep(0.2)  # the writer has taken `hold` and waits in it
    futures = [pool.submit(grouped.write, write) for write in writes]
    deadline = time.monotonic() + 10
    while grouped._queue.qsize() < len(writes) and time.monotonic() < deadline:
        time.sleep(0.01)
    release.set()
    first.result(10)
    pool.shutdown(wait=True)
    return futures


def test_a_writes_own_error_is_its_callers_alone(db_url: str, grouped: Any) -> None:
    def fails(session: Session) -> None:
        _event(99)(session)  # written, then undone with its savepoint
        raise LookupError("no such link")

    futures = _queued_behind_a_held_writer(grouped, [_event(1), fails, _event(2)])
    assert futures[0].result() == 1 and futures[2].result() == 2
    with pytest.raises(LookupError):
        futures[1].result()
    with read_scope(db_url) as session:
        report = audit.verify(session)
    assert report.broken is None and report.entries == 2  # no gap where 99 was undone


def test_a_failed_transaction_fails_every_caller_of_its_batch_and_the_writer_goes_on(
    db_url: str, grouped: Any
) -> None:
    def aborts(session: Session) -> None:
        raise Abort

    futures = _queued_behind_a_held_writer(grouped, [_event(1), aborts, _event(2)])
    for future in futures:
        with pytest.raises(Abort):
            future.result()
    assert _count(db_url) == 0  # nothing of the batch was committed
    assert grouped.write(_event(3)) == 1  # the next batch is written as usual


def test_a_batch_reads_the_chains_head_once(db_url: str, grouped: Any) -> None:
    heads: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "audit_events" in statement:
            heads.append(statement)

    engine = shared_engine(db_url)
    sqlalchemy_event.listen(engine, "before_cursor_execute", count)
    try:
        futures = _queued_behind_a_held_writer(grouped, [_event(n) for n in range(5)])
    finally:
        sqlalchemy_event.remove(engine, "before_cursor_execute", count)
    assert sorted(f.result() for f in futures) == [1, 2, 3, 4, 5]
    assert len(heads) == 1
    with read_scope(db_url) as session:
        assert audit.verify(session).broken is None


def test_a_coroutine_awaits_its_commit(db_url: str, grouped: Any) -> None:
    async def both() -> list[int]:
        return list(await asyncio.gather(grouped.awrite(_event(1)), grouped.awrite(_event(2))))

    assert sorted(asyncio.run(both())) == [1, 2]
    assert _count(db_url) == 2


def test_a_write_whose_caller_gave_up_before_its_batch_is_not_made(
    db_url: str, grouped: Any
) -> None:
    release = threading.Event()
    held = grouped.submit(lambda session: release.wait(10))
    time.sleep(0.2)  # the writer waits in `held`
    given_up = grouped.submit(_event(1))
    assert given_up.cancel()
    kept = grouped.submit(_event(2))
    release.set()
    assert held.result(10) is True and kept.result(10) == 1
    assert _count(db_url) == 1
