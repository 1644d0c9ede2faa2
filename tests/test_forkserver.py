"""The fork server and its launcher, as real processes: what the worker sees of a flow run
started through them (exit status, signals, streams, environment) is what it sees of one started
as `python -m prefect.engine`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from duyet.forkserver import address_for
from duyet.launch import ENV
from duyet.settings import PROJECT_ROOT
from tests.prefect_server import alive

# The server as `python -m duyet.forkserver` runs it (preloading every flow module), with the
# child's work replaced by a small script driven by the launcher's environment.
SERVER = textwrap.dedent(
    """
    import os, signal, sys, time
    import duyet.forkserver as server

    def child(request):
        os.chdir(request.cwd)
        os.environ.clear()
        os.environ.update(request.env)
        print("argv", *request.argv, "cwd", os.getcwd(), "token", os.environ["TOKEN"], flush=True)
        print("to stderr", file=sys.stderr, flush=True)
        if os.environ.get("TRAP"):  # a clean exit on SIGTERM, as Prefect's engine makes
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(int(os.environ["TRAP"])))
        with open(os.environ["PID_FILE"], "w") as out:
            out.write(str(os.getpid()))
        if os.environ.get("SLEEP"):
            time.sleep(float(os.environ["SLEEP"]))
        return int(os.environ.get("CODE", "0"))

    server.run_flow_run = child

    fork = os.fork
    def fork_then_wait():  # the launcher learns its child's pid late: a signal can come first
        pid = fork()
        if pid:
            time.sleep(0.3)
        return pid
    server.os.fork = fork_then_wait
    sys.exit(server.main(sys.argv[1:]))
    """
)


@pytest.fixture(scope="module")
def fork_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    tmp_path = tmp_path_factory.mktemp("forkserver")
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    log = (tmp_path / "forkserver.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER, "--var-dir", str(var_dir)],
        cwd=PROJECT_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while b"fork server ready" not in (tmp_path / "forkserver.log").read_bytes():
        assert process.poll() is None, (tmp_path / "forkserver.log").read_text()
        assert time.monotonic() < deadline, "the fork server did not start"
        time.sleep(0.1)
    env = {
        **os.environ,
        ENV: address_for(var_dir),
        "TOKEN": "t-42",
    }
    try:
        yield env
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        log.close()


def _launch(env: dict[str, str], cwd: Path, *argv: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "duyet.launch", *argv],
        cwd=cwd,
        env={**env, "PID_FILE": str(cwd / "child.pid")},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _child_pid(path: Path) -> int:
    deadline = time.monotonic() + 30
    while not path.exists() or not path.read_text():
        assert time.monotonic() < deadline, "the child did not start"
        time.sleep(0.05)
    return int(path.read_text())


def test_the_child_gets_the_launchers_arguments_environment_folder_and_streams(
    fork_server: dict[str, str], tmp_path: Path
) -> None:
    launcher = _launch({**fork_server, "CODE": "3"}, tmp_path, "run-id")
    out, err = launcher.communicate(timeout=60)
    assert launcher.returncode == 3
    assert out.split() == ["argv", "run-id", "cwd", str(tmp_path), "token", "t-42"]
    assert "to stderr" in err
    assert _child_pid(tmp_path / "child.pid") != launcher.pid  # forked, not run in place


def test_a_signal_to_the_launcher_reaches_the_child_and_its_death_is_the_launchers(
    fork_server: dict[str, str], tmp_path: Path
) -> None:
    launcher = _launch({**fork_server, "SLEEP": "60"}, tmp_path)
    child = _child_pid(tmp_path / "child.pid")  # before the launcher knows it (the server waits)
    launcher.send_signal(signal.SIGTERM)  # as the worker cancelling the run
    launcher.communicate(timeout=30)
    assert launcher.returncode == -signal.SIGTERM
    assert not alive(child)


def test_a_signal_before_the_launcher_knows_its_child_is_held_then_relayed(
    fork_server: dict[str, str], tmp_path: Path
) -> None:
    launcher = _launch({**fork_server, "SLEEP": "60", "TRAP": "7"}, tmp_path)
    _child_pid(tmp_path / "child.pid")  # the server answers the launcher 0.3 s after this
    launcher.send_signal(signal.SIGTERM)
    launcher.communicate(timeout=30)
    assert launcher.returncode == 7  # the child's clean exit, not the launcher killed by it


def test_a_killed_launcher_takes_its_child_along(
    fork_server: dict[str, str], tmp_path: Path
) -> None:
    launcher = _launch({**fork_server, "SLEEP": "60"}, tmp_path)
    child = _child_pid(tmp_path / "child.pid")
    launcher.kill()  # SIGKILL cannot be relayed: the server sees the launcher's socket close
    launcher.communicate(timeout=30)
    deadline = time.monotonic() + 30
    while alive(child):
        assert time.monotonic() < deadline, "the child outlived its launcher"
        time.sleep(0.05)


def test_without_a_fork_server_the_launcher_is_prefects_engine(tmp_path: Path) -> None:
    env = {**os.environ, ENV: address_for(tmp_path / "nobody")}
    launcher = _launch(env, tmp_path, "not-a-flow-run-id")
    _, err = launcher.communicate(timeout=120)
    assert launcher.returncode == 1
    assert "Invalid flow run id" in err


def _server_with(tmp_path: Path, *companion: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", SERVER, "--var-dir", str(tmp_path), "--", *companion],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def test_the_worker_beside_it_gets_its_address_and_its_end_ends_the_server(
    tmp_path: Path,
) -> None:
    script = f"import os, sys; print('at', os.environ['{ENV}'], flush=True); sys.exit(5)"
    server = _server_with(tmp_path, sys.executable, "-c", script)
    out, _ = server.communicate(timeout=120)
    assert server.returncode == 5
    assert f"at {address_for(tmp_path)}-{server.pid}" in out.decode()


def test_stopping_the_server_stops_the_worker_beside_it(tmp_path: Path) -> None:
    pid_file = tmp_path / "worker.pid"
    script = (
        f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    )
    server = _server_with(tmp_path, sys.executable, "-c", script)
    worker = _child_pid(pid_file)
    server.send_signal(signal.SIGTERM)  # as systemd or `duyet up` stopping the worker's unit
    server.communicate(timeout=60)
    assert server.returncode == 0  # a stop asked for is a clean end
    assert not alive(worker)
