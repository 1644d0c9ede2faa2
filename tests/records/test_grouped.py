"""Group commit: many threads' audit writes committed together, each caller told of its own."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from records import audit
from records.engine import dispose_engines, read_scope
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
    assert _count(db_url) == 2


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
