"""Engines and sessions for the records database, SQLite or PostgreSQL, configured alike."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_POOL_SIZE = 20
# Errors that say the database cannot be used right now, not that the request or the schema is
# wrong: SQLite's result codes (extended codes share the prefix) and PostgreSQL's SQLSTATE
# classes (connection, resources, operator intervention, system error, rollback) and codes.
SQLITE_UNAVAILABLE = (
    "SQLITE_BUSY",
    "SQLITE_LOCKED",
    "SQLITE_FULL",
    "SQLITE_READONLY",
    "SQLITE_IOERR",
    "SQLITE_CANTOPEN",
    "SQLITE_NOMEM",
    "SQLITE_PROTOCOL",
)
PG_UNAVAILABLE = ("08", "53", "57", "58", "40", "25006", "55P03")


def make_engine(url: str, *, read_only: bool = False, **options: Any) -> Engine:
    """An engine for `url`; on SQLite: WAL, foreign keys, busy timeout and `BEGIN IMMEDIATE`.

    `read_only`: transactions that cannot write, and on SQLite a deferred `BEGIN` that neither
    takes nor waits for the write lock (a snapshot of the last commit, in WAL mode).
    """
    parsed = make_url(url)
    is_sqlite = parsed.get_backend_name() == "sqlite"
    if is_sqlite and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    if read_only and parsed.get_backend_name() == "postgresql":
        options["execution_options"] = {"postgresql_readonly": True}
    if is_sqlite:
        # A file, not a server: nothing to ping, and a connection costs a file handle, not a
        # server process. Pooled connections beyond the pool's size are closed when returned,
        # and every new one pays its PRAGMAs: keep as many as the portal's threads use at once.
        options.pop("pool_pre_ping", None)
        options.setdefault("pool_size", SQLITE_POOL_SIZE)
    engine = create_engine(url, **options)
    if is_sqlite:
        _configure_sqlite(engine, read_only=read_only)
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after the caller's `with session.begin():` ends."""
    return sessionmaker(engine, expire_on_commit=False)


def display_url(url: str) -> str:
    """`url` with its password hidden, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def _configure_sqlite(engine: Engine, *, read_only: bool) -> None:
    # sqlite3 would only BEGIN (deferred) before the first write; a deferred transaction that
    # read first and writes later fails with "database is locked" instead of waiting. Taking
    # the write lock at BEGIN makes concurrent writers queue behind busy_timeout, which also
    # serialises appends to the audit chain. A read-only engine's transactions never write
    # (`query_only`), so they begin deferred and read beside the writer.
    begin = "BEGIN" if read_only else "BEGIN IMMEDIATE"

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA query_only = {int(read_only)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(begin)


def is_unavailable(error: BaseException) -> bool:
    """Whether `error` means the records database is down, locked, full or read-only for now
    (the transaction rolled back; trying again later is right), rather than a bug."""
    if isinstance(error, DisconnectionError | PoolTimeout):
        return True
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    name = getattr(error.orig, "sqlite_errorname", None)
    if name is not None:
        return str(name).startswith(SQLITE_UNAVAILABLE)
    state = getattr(error.orig, "sqlstate", None)
    if state is None:  # psycopg: no server answer at all (refused, reset, closed)
        return isinstance(error, OperationalError | InterfaceError)
    return str(state).startswith(PG_UNAVAILABLE)


@contextmanager
def transaction(url: str) -> Iterator[Session]:
    """One short-lived engine and one transaction, committed on success: for CLI commands."""
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session, session.begin():
            yield session
    finally:
        engine.dispose()


class _Engines:
    """The process's engines by URL, at most `size`: the least recently used one is disposed
    (its pooled connections closed) when another is needed, not left to the garbage collector
    with its connections open."""

    def __init__(self, make: Callable[[str], Engine], size: int = 8) -> None:
        self._make = make
        self._size = size
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, url: str) -> Engine:
        with self._lock:
            engine = self._engines.get(url)
            if engine is None:
                engine = self._engines[url] = self._make(url)
                while len(self._engines) > self._size:
                    _, dropped = self._engines.popitem(last=False)
                    dropped.dispose()  # connections in use are closed when given back
            self._engines.move_to_end(url)
            return engine


# One engine per URL for a long-lived process (worker, portal, sweeper).
shared_engine = _Engines(lambda url: make_engine(url, pool_pre_ping=True))
# The process's engine for read-only transactions (`read_scope`).
reading_engine = _Engines(lambda url: make_engine(url, read_only=True, pool_pre_ping=True))


def dispose_engines(url: str) -> None:
    """Close the process's pooled connections to `url`, the writers' and the readers'."""
    shared_engine(url).dispose()
    reading_engine(url).dispose()


@lru_cache(maxsize=8)
def _turn(url: str) -> threading.RLock | None:
    """On SQLite, the process's threads take turns at `BEGIN IMMEDIATE` here."""
    return threading.RLock() if make_url(url).get_backend_name() == "sqlite" else None


@contextmanager
def _writer_turn(url: str) -> Iterator[None]:
    # Threads of one process waiting for SQLite's write lock sleep in its busy handler, up to
    # 100 ms a nap whether the lock was freed meanwhile or not: twenty link pages at once
    # waited seconds (docs/benchmarks.md). Queued on a lock of our own they are woken as soon
    # as it is free. Other processes still meet the busy timeout; so does a thread that has
    # waited here as long, which then goes on to it.
    lock = _turn(url)
    if lock is None:
        yield
        return
    held = lock.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
    try:
        yield
    finally:
        if held:
            lock.release()


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A transaction on the process's shared engine, committed on success."""
    with _writer_turn(url), session_factory(shared_engine(url))() as session, session.begin():
        yield session


@contextmanager
def read_scope(url: str) -> Iterator[Session]:
    """A read-only transaction on the process's reading engine: for pages and reads that write
    nothing. On SQLite it does not wait for writers, nor they for it; a write in it fails."""
    with session_factory(reading_engine(url))() as session, session.begin():
        yield session
