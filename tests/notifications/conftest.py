"""Real services for the notifications tests: a recording SMTP server on loopback, the records
database through its migrations (SQLite, and PostgreSQL where marked)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from duyet.settings import Settings
from records import migrate
from records.engine import make_engine, session_factory
from tests.databases import pg_database
from tests.notifications.factories import parse, settings_for


@dataclass(frozen=True)
class Received:
    """One message as the server took it: envelope and the exact bytes."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    peer: Any

    @property
    def message(self) -> EmailMessage:
        return parse(self.data)


@dataclass
class Recorder:
    """An aiosmtpd handler that stores what arrives and misbehaves on request."""

    received: list[Received] = field(default_factory=list)
    ehlos: int = 0
    refuse: dict[str, str] = field(default_factory=dict)  # recipient -> SMTP reply
    drop_before_storing: set[str] = field(default_factory=set)  # Message-IDs, once each
    kill_pid: int | None = None  # SIGKILL this process once `kill_at` messages are stored
    kill_at: int = 1
    on_store: Callable[[], None] | None = None  # called as each message is stored
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        with self.lock:
            self.ehlos += 1
        return responses

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        data: bytes = envelope.original_content
        message_id = str(parse(data)["Message-ID"])
        if message_id in self.drop_before_storing:
            self.drop_before_storing.discard(message_id)
            server.transport.close()  # the line goes before the message was taken
            return "421 4.4.2 connection dropped"
        with self.lock:
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), data, session.peer)
            )
        if self.on_store is not None:
            self.on_store()
        if self.kill_pid is not None and len(self.received) >= self.kill_at:
            pid, self.kill_pid = self.kill_pid, None
            os.kill(pid, signal.SIGKILL)  # stored, and the sender dies before hearing "250"
            await asyncio.sleep(0.3)
        return "250 OK"

    def message_ids(self) -> list[str]:
        return [str(item.message["Message-ID"]) for item in self.received]

    def peers(self) -> set[Any]:
        return {item.peer for item in self.received}


class SmtpServer:
    """A real SMTP server on 127.0.0.1 that can go down and come back on the same port."""

    def __init__(self, recorder: Recorder, port: int) -> None:
        self.recorder = recorder
        self.port = port
        self.controller: Controller | None = None

    def start(self) -> None:
        assert self.controller is None
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(Recorder(), free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A records database at head: SQLite, or PostgreSQL under `@both_databases`."""
    if getattr(request, "param", "sqlite") == "sqlite":
        url = f"sqlite:///{tmp_path / 'records.db'}"
        migrate.upgrade(url)
        yield url
        return
    for url in pg_database(request.getfixturevalue("pg_admin"), prefix="duyet_n"):
        migrate.upgrade(url)
        yield url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """Settings for queueing mail (no SMTP server)."""
    return settings_for(db_url, tmp_path)


@pytest.fixture
def mail_settings(db_url: str, tmp_path: Path, smtp: SmtpServer) -> Settings:
    """Settings that deliver to the `smtp` fixture's server."""
    return settings_for(db_url, tmp_path, smtp_host="127.0.0.1", smtp_port=smtp.port)
