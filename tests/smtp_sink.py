"""A real SMTP server on loopback (aiosmtpd) that records every message it accepts."""

from __future__ import annotations

import contextlib
import email
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default
from typing import Any

from aiosmtpd.controller import Controller

from tests.prefect_server import free_port


@dataclass
class Received:
    envelope_from: str
    envelope_to: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.raw, policy=default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Recorder:
    messages: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content))
            )
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m.message for m in self.messages if address in m.envelope_to]

    def of_cycle(self, cycle_id: str, kind: str | None = None) -> list[EmailMessage]:
        """Messages about one cycle (optionally of one kind), in arrival order."""
        with self.lock:
            found = [m.message for m in self.messages]
        return [
            m
            for m in found
            if m["X-Duyet-Cycle"] == cycle_id and (kind is None or m["X-Duyet-Kind"] == kind)
        ]

    def about(self, text: str) -> list[EmailMessage]:
        """Messages whose subject contains `text` (a line code, say)."""
        with self.lock:
            found = [m.message for m in self.messages]
        return [m for m in found if text in str(m["Subject"])]


@contextlib.contextmanager
def smtp_sink() -> Iterator[tuple[Controller, Recorder]]:
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, recorder
    finally:
        controller.stop()
