"""The command duyet's deployments give Prefect's process worker: `python -m duyet.launch`.

Hands this process's arguments, environment, working directory and standard streams to the
fork server (`duyet.forkserver`), which forks a warm child running Prefect's engine; relays the
worker's signals to that child and exits as it did. Without a fork server (`DUYET_FORKSERVER`
unset, or nothing answering), it becomes `python -m prefect.engine`, as Prefect would start it.

Standard library only: this process starts for every flow run.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import struct
import sys
from typing import NoReturn

ENV = "DUYET_FORKSERVER"  # the fork server's address (`duyet.forkserver.address_for`)
HEADER = struct.Struct("!I")  # length of the JSON request that follows, with the streams
RELAYED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2)


def abstract(address: str) -> str:
    """`address` in Linux's abstract socket namespace."""
    return "\0" + address


def _connect(address: str) -> socket.socket | None:
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        client.connect(abstract(address))
    except OSError:
        client.close()
        return None
    return client


def _engine(argv: list[str]) -> NoReturn:
    signal.pthread_sigmask(signal.SIG_SETMASK, [])  # an exec'd process inherits the mask
    os.execv(sys.executable, [sys.executable, "-m", "prefect.engine", *argv])


def _hand_over(server: socket.socket, argv: list[str]) -> int | None:
    request = {"argv": argv, "env": dict(os.environ), "cwd": os.getcwd()}
    payload = json.dumps(request).encode()
    # A signal arriving before the child's pid is known is held, then relayed: the worker's
    # SIGTERM in that window would otherwise kill this process and leave the child to be killed
    # (SIGKILL, no clean exit) by the server seeing its launcher gone.
    signal.pthread_sigmask(signal.SIG_BLOCK, RELAYED)
    socket.send_fds(server, [HEADER.pack(len(payload))], [0, 1, 2])
    server.sendall(payload)
    answers = server.makefile("r", encoding="ascii")
    first = answers.readline().split()
    if first[:1] != ["pid"]:
        return None  # refused before any fork: nothing ran
    child = int(first[1])

    def relay(number: int, _frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, number)

    for number in RELAYED:
        signal.signal(number, relay)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, RELAYED)  # held signals are relayed now
    for line in answers:
        words = line.split()
        if words[:1] == ["exit"]:
            return int(words[1])
    return 1  # the fork server went away without the child's status


def main() -> None:
    argv = sys.argv[1:]
    address = os.environ.get(ENV)
    server = _connect(address) if address else None
    if server is None:
        _engine(argv)
    code = _hand_over(server, argv)
    if code is None:
        _engine(argv)
    if code < 0:  # the child died of a signal: so does this process, for the worker to see
        signal.signal(-code, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [-code])
        os.kill(os.getpid(), -code)
    sys.exit(code)


if __name__ == "__main__":
    main()
