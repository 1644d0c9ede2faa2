"""Group commit: small writes from many threads of one process, committed together.

A link page's GET writes one audit event (`link.opened`) and must not answer before it is
committed: a page is never shown unlogged. Twenty pages at once each taking SQLite's write lock
(or the audit chain's lock on PostgreSQL) for a transaction of their own queue behind it, and
each holder, between its SQL calls, waits for the GIL behind the threads rendering pages
(docs/benchmarks.md). Here one thread of the process writes whatever has been asked meanwhile in
one transaction, and each caller waits for the commit that holds its write: the same durability,
one lock turn and one commit for the lot. If a write fails, the batch is written again with each
write in a savepoint of its own.

A write's own error (a savepoint rolled back) is its caller's alone; an error of the transaction
(the database down, locked past its timeout, read-only) is every caller's of that batch, raised
in their threads as if each had written alone.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from functools import lru_cache
from queue import Empty, SimpleQueue
from typing import Any, TypeVar

from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from records.engine import SQLITE_BUSY_TIMEOUT_MS, session_scope

logger = logging.getLogger("duyet.records")

T = TypeVar("T")
BATCH = 64
# A caller waits for its batch: the writer's turn and SQLite's busy timeout, each at most
# SQLITE_BUSY_TIMEOUT_MS, then the batch itself.
WAIT_S = 2 * SQLITE_BUSY_TIMEOUT_MS / 1000 + 30


@dataclass(eq=False)
class _Job:
    write: Callable[[Session], Any]
    done: Future[Any] = field(default_factory=Future)


class GroupCommit:
    """Writes of one records database from the threads of this process, committed in batches."""

    def __init__(self, url: str, *, batch: int = BATCH) -> None:
        self._url = url
        self._batch = batch
        self._queue: SimpleQueue[_Job] = SimpleQueue()
        self._started = threading.Lock()
        self._thread: threading.Thread | None = None

    def submit(self, write: Callable[[Session], T]) -> Future[T]:
        """Queue `write(session)` for the next batch; the future holds its result once committed.
        A future cancelled before its batch starts is not written."""
        job = _Job(write)
        self._start()
        self._queue.put(job)
        return job.done

    def write(self, write: Callable[[Session], T], *, timeout: float = WAIT_S) -> T:
        """Run `write(session)` in the next batch and return its result once committed."""
        try:
            return self.submit(write).result(timeout=timeout)
        except FutureTimeout:
            raise _late(timeout) from None

    async def awrite(self, write: Callable[[Session], T], *, timeout: float = WAIT_S) -> T:
        """As `write`, for a coroutine: no thread waits for the commit."""
        try:
            return await asyncio.wait_for(asyncio.wrap_future(self.submit(write)), timeout)
        except TimeoutError:
            raise _late(timeout) from None

    def _start(self) -> None:
        with self._started:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="duyet-group-commit", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            jobs = [self._queue.get()]
            while len(jobs) < self._batch:
                try:
                    jobs.append(self._queue.get_nowait())
                except Empty:
                    break
            jobs = [job for job in jobs if job.done.set_running_or_notify_cancel()]
            try:
                self._commit(jobs)
            except BaseException as error:  # never leave a caller waiting, nor the thread dead
                logger.exception("group commit of %d writes failed", len(jobs))
                for job in jobs:
                    if not job.done.done():
                        job.done.set_exception(error)

    def _commit(self, jobs: list[_Job]) -> None:
        """The batch in one transaction; if a write fails, again with each write in a savepoint
        of its own (a write's error is its caller's alone), or at once if it was alone."""
        try:
            outcomes = self._attempt(jobs, isolated=False)
        except _WriteFailed as failed:
            if len(jobs) > 1:
                outcomes = self._attempt(jobs, isolated=True)
            else:
                outcomes = [(jobs[0], None, failed.error)]
        for job, result, failure in outcomes:  # committed: tell each caller
            if failure is None:
                job.done.set_result(result)
            else:
                job.done.set_exception(failure)

    def _attempt(self, jobs: list[_Job], *, isolated: bool) -> list[_Outcome]:
        with session_scope(self._url) as session:
            return [_isolated(session, job) if isolated else _written(session, job) for job in jobs]


def _written(session: Session, job: _Job) -> _Outcome:
    try:
        return job, job.write(session), None
    except Exception as raised:  # the transaction is undone: the batch is tried again
        raise _WriteFailed(raised) from raised


def _isolated(session: Session, job: _Job) -> _Outcome:
    try:
        with session.begin_nested():
            return job, job.write(session), None
    except Exception as raised:  # this write's own: its savepoint is undone
        return job, None, raised


class _WriteFailed(Exception):
    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


_Outcome = tuple[_Job, Any, BaseException | None]


def _late(timeout: float) -> PoolTimeout:
    return PoolTimeout(f"the records' writer did not commit in {timeout:.0f} s")


@lru_cache(maxsize=8)
def group_commit(url: str) -> GroupCommit:
    """The process's group committer for the records database at `url`."""
    return GroupCommit(url)
