"""Flow-run processes forked from a warm parent instead of started cold.

Prefect's process worker starts every flow run — each new cycle and each resume after a
decision — as a new `python -m prefect.engine` process, which imports Prefect, SQLAlchemy, the
records' models, Jinja2 and the flow before running a line of it: 2 to 3 CPU-seconds and most of
the time from a decision to the next stage's mail (docs/benchmarks.md). The fork server imports
all that once and forks a child per flow run; the child runs Prefect's own engine entry point
(`prefect/engine.py` as `__main__`), unchanged, with the environment, working directory and
standard streams of the process the worker started.

The worker still starts a process per run: `python -m duyet.launch`, the command duyet's
deployments carry (`flows.deploy.LAUNCH_COMMAND`). It imports nothing but the standard library,
hands its environment and streams over this server's socket, relays the worker's signals to the
child and exits with the child's status: the worker sees the process it expects. Without a fork
server (none configured, or not answering), the launcher becomes `python -m prefect.engine`.

The socket is in Linux's abstract namespace (no path length limit, nothing left on disk), named
`DUYET_FORKSERVER` (the worker's launchers read the same variable), or after the stack's `var`
folder; only processes of this server's own user are served (`SO_PEERCRED`), since a request
is code run as that user.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import logging
import os
import selectors
import signal
import socket
import struct
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from duyet.forkchild import Request, preload, run_flow_run
from duyet.launch import ENV as ENV
from duyet.launch import HEADER, abstract

logger = logging.getLogger("duyet.forkserver")

STREAMS = 3  # stdin, stdout, stderr, passed as file descriptors with the header
REQUEST_TIMEOUT_S = 5.0
COMPANION_STOP_S = 30.0


def address_for(var_dir: Path) -> str:
    """The name of the fork server of the stack whose data is in `var_dir`, in the abstract
    socket namespace (`abstract`; an environment variable cannot hold its leading NUL)."""
    digest = hashlib.sha256(str(var_dir.resolve()).encode()).hexdigest()[:24]
    return f"duyet-forkserver-{digest}"


@dataclass
class _Child:
    pid: int
    connection: socket.socket


class ForkServer:
    """Accepts launchers on `address`; forks one child per request (`serve` returns in it)."""

    def __init__(self, address: str) -> None:
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(abstract(address))
        self.listener.listen(64)
        self.children: dict[int, _Child] = {}
        self._wake_read, self._wake_write = socket.socketpair()
        self._stopping = False
        self.signalled = False  # stopped by SIGTERM or SIGINT, not by the worker's end
        self.companion: subprocess.Popen[bytes] | None = None  # the worker, when started here

    def start_companion(self, command: list[str]) -> None:
        """Start `command` (the worker) beside the server, in its process group; the server
        stops when it ends, and stops it when stopped."""
        self.companion = subprocess.Popen(command)

    def serve(self) -> Request | None:
        """Serve until stopped (None), or return the request in a forked child."""
        selector = selectors.DefaultSelector()
        for wake in (self._wake_read, self._wake_write):
            wake.setblocking(False)
        signal.set_wakeup_fd(self._wake_write.fileno(), warn_on_full_buffer=False)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes the selector through the fd
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        selector.register(self.listener, selectors.EVENT_READ, "accept")
        selector.register(self._wake_read, selectors.EVENT_READ, "wake")
        while not self._stopping:
            for key, _ in selector.select(timeout=1.0):
                if key.data == "accept":
                    request = self._accept(selector)
                    if request is not None:  # this is the child
                        selector.close()
                        return request
                elif key.data == "wake":
                    with contextlib.suppress(BlockingIOError):
                        self._wake_read.recv(4096)
                else:
                    self._launcher_spoke(selector, key.data)
            self._reap(selector)
        self._shutdown(selector)
        return None

    def _stop(self, *_: Any) -> None:
        self._stopping = True
        self.signalled = True

    def _accept(self, selector: selectors.BaseSelector) -> Request | None:
        connection, _ = self.listener.accept()
        try:
            request, streams = _receive(connection)
        except (OSError, ValueError, KeyError, PermissionError) as error:
            logger.warning("launch request refused: %s", error)
            connection.close()
            return None
        pid = os.fork()
        if pid == 0:
            self._become_child(connection, streams)
            return request
        for stream in streams:
            os.close(stream)
        try:
            connection.sendall(f"pid {pid}\n".encode())
        except OSError:  # the launcher went away before learning of its child: so must the child
            os.kill(pid, signal.SIGKILL)
        connection.setblocking(False)
        self.children[pid] = _Child(pid, connection)
        selector.register(connection, selectors.EVENT_READ, pid)
        return None

    def _become_child(self, connection: socket.socket, streams: list[int]) -> None:
        signal.set_wakeup_fd(-1)
        for number in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
            signal.signal(number, signal.SIG_DFL)
        for target, stream in enumerate(streams):
            os.dup2(stream, target)
            os.close(stream)
        for open_socket in (
            self.listener,
            self._wake_read,
            self._wake_write,
            connection,
            *(child.connection for child in self.children.values()),
        ):
            open_socket.close()
        self.children.clear()
        if self.companion is not None:  # the server's, not this child's to wait for
            self.companion.returncode = 0
            self.companion = None
        logger.handlers.clear()  # the child logs as Prefect's engine sets up, to its streams

    def _launcher_spoke(self, selector: selectors.BaseSelector, pid: int) -> None:
        child = self.children.get(pid)
        if child is None:
            return
        try:
            data = child.connection.recv(64)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:  # the launcher is gone (killed): so must its flow run be
            selector.unregister(child.connection)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def _reap(self, selector: selectors.BaseSelector) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if self.companion is not None and pid == self.companion.pid:
                self.companion.returncode = os.waitstatus_to_exitcode(status)
                logger.info("the worker ended (%s): stopping", self.companion.returncode)
                self._stopping = True
                continue
            child = self.children.pop(pid, None)
            if child is not None:
                with contextlib.suppress(KeyError, ValueError):
                    selector.unregister(child.connection)
                _tell_exit(child, status)

    def _shutdown(self, selector: selectors.BaseSelector) -> None:
        """Stopped: the worker, then the children get SIGTERM (their launchers then see them
        end), as a stopped worker's flow processes do."""
        companion = self.companion
        if companion is not None and companion.returncode is None:
            companion.terminate()
            try:
                companion.wait(timeout=COMPANION_STOP_S)
            except subprocess.TimeoutExpired:
                companion.kill()
                companion.wait()
        for pid in list(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        for child in list(self.children.values()):
            with contextlib.suppress(ChildProcessError):
                _, status = os.waitpid(child.pid, 0)
                _tell_exit(child, status)
        selector.close()
        self.listener.close()


def _tell_exit(child: _Child, status: int) -> None:
    """Send the launcher its child's exit status (it exits with it) and hang up."""
    with contextlib.suppress(OSError):
        child.connection.setblocking(True)
        child.connection.sendall(f"exit {os.waitstatus_to_exitcode(status)}\n".encode())
    child.connection.close()


def _receive(connection: socket.socket) -> tuple[Request, list[int]]:
    """Read one request and its streams, from a process of this user only."""
    credentials = connection.getsockopt(
        socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")
    )
    _, uid, _ = struct.unpack("3i", credentials)
    if uid != os.getuid():
        raise PermissionError(f"a process of uid {uid}")
    connection.settimeout(REQUEST_TIMEOUT_S)
    header, streams, _, _ = socket.recv_fds(connection, HEADER.size, STREAMS)
    if len(header) != HEADER.size or len(streams) != STREAMS:
        for stream in streams:
            os.close(stream)
        raise ValueError("incomplete request")
    (size,) = HEADER.unpack(header)
    raw = b""
    while len(raw) < size:
        chunk = connection.recv(size - len(raw))
        if not chunk:
            raise ValueError("truncated request")
        raw += chunk
    try:
        return Request.parse(raw), streams
    except (ValueError, KeyError, TypeError):
        for stream in streams:
            os.close(stream)
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m duyet.forkserver", description=__doc__)
    parser.add_argument("--var-dir", type=Path, help="name the socket after this var folder")
    parser.add_argument(
        "worker",
        nargs=argparse.REMAINDER,
        help="after --: the worker's command, started beside the server once it listens "
        "(e.g. -- prefect worker start --pool duyet); the server lives as long as it",
    )
    args = parser.parse_args(argv)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    worker = args.worker[1:] if args.worker[:1] == ["--"] else args.worker
    address = os.environ.get(ENV)  # as the worker's launchers will look for it
    if args.var_dir is not None or not address:
        from duyet.settings import get_settings

        address = address_for(args.var_dir or get_settings().var_dir)
        if worker:  # its worker learns the name from its environment: one per server
            address += f"-{os.getpid()}"
        os.environ[ENV] = address
    preload()
    try:
        server = ForkServer(address)
    except OSError as error:
        logger.error("cannot listen at %r (%s): one fork server per %s", address, error, ENV)
        return 1
    logger.info("fork server ready (%d modules preloaded)", len(sys.modules))
    if worker:
        server.start_companion(worker)
    request = server.serve()
    if request is None:  # stopped: cleanly when asked to; as the worker ended when it did
        code = server.companion.returncode if server.companion is not None else None
        if server.signalled or code is None:
            return 0
        return code if code >= 0 else 128 - code
    return run_flow_run(request)


if __name__ == "__main__":
    sys.exit(main())
