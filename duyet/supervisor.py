"""Child processes started, watched and stopped together: what `duyet up` runs.

Each child is a plain command with its own log file under var/logs. A child that dies is
restarted with a growing delay; Ctrl-C (or SIGTERM) stops every child, gracefully first.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path


class PortInUse(Exception):
    """A port the stack needs is taken; the message names it and the setting that moves it."""


def port_free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bool(200 <= response.status < 300)
    except OSError:
        return False


def wait_until(probe: Callable[[], bool], *, timeout: float, interval: float = 0.3) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe():
            return True
        time.sleep(interval)
    return False


@dataclass
class Child:
    name: str
    command: Sequence[str]
    env: Mapping[str, str]
    cwd: Path
    log: Path
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    next_start: float = 0.0

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:  # the child keeps its own descriptor
            self.process = subprocess.Popen(
                list(self.command),
                env=dict(self.env),
                cwd=self.cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl-C reaches us; we stop the children in order
            )

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 15.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=timeout)


@dataclass
class Supervisor:
    children: list[Child] = field(default_factory=list)
    stopping: bool = False

    def add(self, child: Child) -> Child:
        self.children.append(child)
        child.start()
        return child

    def watch(
        self, *, poll: float = 1.0, on_restart: Callable[[Child], None] | None = None
    ) -> None:
        """Restart dead children (1 s, 2 s, 4 s … up to 60 s) until asked to stop."""
        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

        def request_stop(_signum: int, _frame: object) -> None:
            self.stopping = True

        for sig in previous:
            signal.signal(sig, request_stop)
        try:
            while not self.stopping:
                now = time.monotonic()
                for child in self.children:
                    if child.alive:
                        continue
                    if child.next_start == 0.0:
                        child.next_start = now + min(60.0, 2.0**child.restarts)
                    elif now >= child.next_start:
                        child.restarts += 1
                        child.next_start = 0.0
                        child.start()
                        if on_restart is not None:
                            on_restart(child)
                time.sleep(poll)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def stop(self) -> None:
        """Stop children in reverse start order: consumers first, the Prefect server last."""
        self.stopping = True
        for child in reversed(self.children):
            child.stop()
