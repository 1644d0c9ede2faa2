"""The SMTP server the benchmarks deliver to: aiosmtpd on loopback, recording when each message
was accepted (the end of every latency measured here).

In-process (`Sink`) for the stack measures, where arrival times are compared with the bench's own
clock; as a process of its own (`python -m bench.sink --port N`) for the outbox measure, so the
sink does not share the sender's interpreter.
"""

from __future__ import annotations

import argparse
import asyncio
import email
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import default
from typing import Any

from aiosmtpd.controller import Controller

from bench.common import free_port

_HEADERS = BytesHeaderParser(policy=default)


@dataclass
class Arrival:
    at: float  # time.monotonic() when the server accepted it (250 after DATA)
    wall: float  # the same moment, time.time(), to set beside Prefect's state timestamps
    recipients: list[str]
    raw: bytes

    def header(self, name: str) -> str:
        value = _HEADERS.parsebytes(self.raw).get(name)
        return "" if value is None else str(value)

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.raw, policy=default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Sink:
    """Every message accepted, in order, with waiting for one and pushing to async readers."""

    arrivals: list[Arrival] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)
    listeners: list[tuple[asyncio.AbstractEventLoop, asyncio.Queue[Arrival]]] = field(
        default_factory=list
    )
    port: int = 0
    _controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        arrival = Arrival(
            time.monotonic(), time.time(), list(envelope.rcpt_tos), bytes(envelope.content)
        )
        with self.changed:
            self.arrivals.append(arrival)
            self.changed.notify_all()
            for loop, queue in self.listeners:
                loop.call_soon_threadsafe(queue.put_nowait, arrival)
        return "250 Message accepted for delivery"

    def start(self) -> Sink:
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()

    def count(self) -> int:
        with self.changed:
            return len(self.arrivals)

    def wait(self, match: Callable[[Arrival], bool], *, timeout: float, start: int = 0) -> Arrival:
        """The first message from index `start` on that `match`es, waiting up to `timeout`."""
        deadline = time.monotonic() + timeout
        index = start
        with self.changed:
            while True:
                while index < len(self.arrivals):
                    if match(self.arrivals[index]):
                        return self.arrivals[index]
                    index += 1
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("no matching mail arrived")
                self.changed.wait(left)

    def subscribe(self) -> asyncio.Queue[Arrival]:
        """Every message from now on, in the running loop's queue."""
        queue: asyncio.Queue[Arrival] = asyncio.Queue()
        with self.changed:
            self.listeners.append((asyncio.get_running_loop(), queue))
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Arrival]) -> None:
        with self.changed:
            self.listeners = [(loop, q) for loop, q in self.listeners if q is not queue]


class _Counter:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        return "250 Message accepted for delivery"


def main() -> None:
    """A counting sink in its own process; prints `ready` once listening, the count on SIGTERM."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    port = parser.parse_args().port
    counter = _Counter()
    controller = Controller(counter, hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()
    print(counter.count, flush=True)


if __name__ == "__main__":
    main()
