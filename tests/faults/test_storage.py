"""Storage faults under the portal: the records database unreachable, locked, full or read-only.

Each request made during the fault gets a plain Vietnamese 503 page, nothing is half-written, and
once the fault is gone the same link works without anyone doing anything.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, func, select

from definitions.loader import load_plan
from definitions.stage_rules import Stage
from duyet.messages import PORTAL
from duyet.records_bridge import record_import
from duyet.settings import PROJECT_ROOT, Settings, get_settings
from portal.app import create_app
from records import engine as records_engine
from records.engine import dispose_engines, session_scope
from records.migrate import upgrade
from records.models import DocumentBlob
from tests.databases import pg_database
from tests.faults.ledger import Ledger, Row, counts
from tests.portal.asgi import app_client
from tests.portal.conftest import portal_env, with_prefect
from tests.portal.factories import SEED_PLAN, csrf_in, open_at

LINE = "2.1.a"
DOWN = PORTAL["storage-down"][:40]  # the page's first words are enough to recognise it


def blobs(url: str) -> int:
    with session_scope(url) as session:
        return int(session.scalar(select(func.count()).select_from(DocumentBlob)) or 0)


def figures(url: str) -> dict[str, int]:
    return counts(url) | {"blobs": blobs(url)}


def assert_clean_503(page: httpx.Response) -> None:
    assert page.status_code == 503, page.text[-800:]
    assert DOWN in page.text and PORTAL["server-error"] in page.text
    assert "Traceback" not in page.text and "sqlalchemy" not in page.text.lower()
    assert page.headers["retry-after"]


def send_draft(
    client: httpx.Client, token: str, csrf: str, content: bytes, name: str = "du-thao.txt"
) -> httpx.Response:
    files = {"document": (name, content, "text/plain")}
    return client.post(f"/r/{token}", data={"csrf": csrf, "decision": "submit"}, files=files)


def approve(client: httpx.Client, token: str, csrf: str) -> httpx.Response:
    form = {"csrf": csrf, "decision": "approve", "comment": "Đồng ý với dự thảo."}
    return client.post(f"/r/{token}", data=form)


# --- PostgreSQL -----------------------------------------------------------------------------


def _cluster(port: int) -> tuple[str, str]:
    """The Debian cluster (version, name) serving `port` on this machine, or skip."""
    if shutil.which("pg_ctlcluster") is None or shutil.which("pg_lsclusters") is None:
        pytest.skip("pg_ctlcluster not found: cannot stop and start the PostgreSQL server")
    listed = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=True)
    for fields in (line.split() for line in listed.stdout.splitlines()):
        if len(fields) >= 4 and fields[2] == str(port) and fields[3] == "online":
            return fields[0], fields[1]
    pytest.skip(f"no local PostgreSQL cluster online on port {port} (pg_lsclusters)")


def _pg_ctl(version: str, name: str, action: str, *, check: bool = True) -> None:
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", version, name, action]
    subprocess.run(command, check=check, capture_output=True, timeout=60)


def _wait_up(admin: Engine, seconds: float = 30.0) -> None:
    admin.dispose()  # its pooled connections died with the server
    deadline = time.monotonic() + seconds
    while True:
        try:
            with admin.connect():
                return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@contextmanager
def postgres_stopped(admin: Engine) -> Iterator[None]:
    """The PostgreSQL server stopped for the block, started again whatever happens."""
    version, name = _cluster(admin.url.port or 5432)
    try:
        _pg_ctl(version, name, "stop")
        yield
    finally:
        _pg_ctl(version, name, "start", check=False)  # "already running" will do as well
        _wait_up(admin)


@pytest.fixture
def pg_portal(pg_admin: Engine, tmp_path: Path) -> Iterator[Settings]:
    """The portal's settings on a throwaway PostgreSQL database with the seed plan recorded."""
    for url in pg_database(pg_admin, prefix="duyet_f"):
        settings = get_settings(portal_env(tmp_path) | {"DUYET_DATABASE_URL": url})
        upgrade(url)
        plan = load_plan(PROJECT_ROOT / "definitions" / "plans" / f"{SEED_PLAN}.yaml")
        record_import(plan, settings=settings, actor="test")
        try:
            yield settings
        finally:
            dispose_engines(url)


@pytest.mark.pg
@pytest.mark.serial  # every other test using PostgreSQL would fail meanwhile
def test_postgres_down_then_back(pg_portal: Settings, pg_admin: Engine, ledger: Ledger) -> None:
    url = pg_portal.database_url
    opened = open_at(pg_portal, LINE, Stage.REVIEW)
    token = opened.first
    with app_client(with_prefect(create_app(pg_portal), None)) as client:
        csrf = csrf_in(client.get(f"/r/{token}"))
        before = figures(url)
        started = time.monotonic()
        with postgres_stopped(pg_admin):
            during_get = client.get(f"/r/{token}")
            during_post = approve(client, token, csrf)
        outage = time.monotonic() - started
        after_outage = figures(url)
        again = client.get(f"/r/{token}")
        answered = approve(client, token, csrf_in(again))
        after = figures(url)
    assert_clean_503(during_get)
    assert_clean_503(during_post)
    assert after_outage == before
    assert again.status_code == 200 and answered.status_code == 200, answered.text[-800:]
    assert after["decisions"] == before["decisions"] + 1
    assert after["links_used"] == before["links_used"] + 1
    ledger.record(
        Row(
            scenario="PostgreSQL stopped under a reviewer's GET and POST, then started",
            injected="pg_ctlcluster stop; GET + POST /r/{token}; pg_ctlcluster start",
            before=before,
            after=after,
            observed=(
                "GET and POST during the outage: 503 page in Vietnamese, nothing written; "
                "after the start the same link opened and recorded the decision (pool_pre_ping)"
            ),
            extra={"outage_s": round(outage, 1), "during": "503/503", "after": "200/200"},
        )
    )


# --- SQLite ---------------------------------------------------------------------------------


def test_sqlite_locked_past_busy_timeout(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    ledger: Ledger,
) -> None:
    # The lock is real; only the wait before giving up is cut from 30 s to 0.3 s.
    monkeypatch.setattr(records_engine, "SQLITE_BUSY_TIMEOUT_MS", 300)
    url = settings.database_url
    opened = open_at(settings, LINE, Stage.REVIEW)
    token = opened.first
    with app_client(with_prefect(create_app(settings), None)) as client:
        csrf = csrf_in(client.get(f"/r/{token}"))
        before = figures(url)
        holder = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        try:
            holder.execute("BEGIN EXCLUSIVE")  # another process writing for a long time
            during_get = client.get(f"/r/{token}")
            during_post = approve(client, token, csrf)
        finally:
            holder.rollback()
            holder.close()
        after_lock = figures(url)
        answered = approve(client, token, csrf)
        after = figures(url)
    assert_clean_503(during_get)
    assert_clean_503(during_post)
    assert after_lock == before
    assert answered.status_code == 200, answered.text[-800:]
    assert after["decisions"] == before["decisions"] + 1
    ledger.record(
        Row(
            scenario="SQLite records database locked by another writer past busy_timeout",
            injected="BEGIN EXCLUSIVE held by a second connection; GET + POST /r/{token}",
            before=before,
            after=after,
            observed=(
                "both requests: 503 page after the busy timeout, nothing written; "
                "the same link recorded the decision once the lock was released"
            ),
            extra={"busy_timeout_ms": 300, "during": "503/503", "after": "200"},
        )
    )


@contextmanager
def tmpfs(where: Path, size: int) -> Iterator[Path]:
    """A small tmpfs mounted at `where` for the block (root only: skipped otherwise)."""
    where.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
            capture_output=True,
            text=True,
        )
    except FileNotFoundError:
        pytest.skip("no mount command: cannot make a small filesystem to fill")
    if done.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not permitted here: {done.stderr.strip()}")
    try:
        yield where
    finally:
        if subprocess.run(["umount", str(where)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(where)], capture_output=True)


def remount(where: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(where)], check=True, capture_output=True)


def fill(folder: Path) -> Path:
    """Write zeros into `folder` until its filesystem has not one byte left."""
    filler = folder / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        size = 1024 * 1024
        while size:
            try:
                os.write(descriptor, bytes(size))
            except OSError as error:
                assert error.errno == errno.ENOSPC, error
                size //= 2
    finally:
        os.close(descriptor)
    return filler


def on_tmpfs(seeded_db: Path, tmp_path: Path, mounted: Path) -> Settings:
    shutil.copy(seeded_db, mounted / "duyet.db")
    url = f"sqlite:///{mounted / 'duyet.db'}"
    return get_settings(portal_env(tmp_path) | {"DUYET_DATABASE_URL": url})


def test_disk_full_while_storing_a_draft(
    seeded_db: Path,
    tmp_path: Path,
    ledger: Ledger,
) -> None:
    draft = ("Dự thảo kế hoạch rà soát thủ tục hành chính.\n" * 24_000).encode()  # 1.4 MB
    with tmpfs(tmp_path / "small", seeded_db.stat().st_size + 3 * 1024 * 1024) as mounted:
        settings = on_tmpfs(seeded_db, tmp_path, mounted)
        url = settings.database_url
        try:
            opened = open_at(settings, LINE, Stage.DRAFT)
            token = opened.first
            with app_client(with_prefect(create_app(settings), None)) as client:
                csrf = csrf_in(client.get(f"/r/{token}"))
                before = figures(url)
                filler = fill(mounted)
                during = send_draft(client, token, csrf, draft)
                filler.unlink()  # space returns
                after_full = figures(url)
                stored = send_draft(client, token, csrf, draft)
                after = figures(url)
        finally:
            dispose_engines(url)  # no open file may keep the mount busy
    assert_clean_503(during)
    assert after_full == before  # no version, no blob, no audit entry, the link unused
    assert stored.status_code == 200, stored.text[-800:]
    assert after["versions"] == before["versions"] + 1
    assert after["blobs"] == before["blobs"] + 1
    assert after["links_used"] == before["links_used"] + 1
    ledger.record(
        Row(
            scenario="Disk full while the lead unit uploads a draft (SQLite on a full tmpfs)",
            injected="tmpfs filled to the last byte; POST /r/{token} with a 1.4 MB draft",
            before=before,
            after=after,
            observed=(
                "503 page in Vietnamese; no version, blob or audit entry, link unused; "
                "after the filler was deleted the same link stored the draft"
            ),
            extra={"draft_bytes": len(draft), "during": during.status_code, "after": 200},
        )
    )


def test_read_only_database_while_storing_a_draft(
    seeded_db: Path,
    tmp_path: Path,
    ledger: Ledger,
) -> None:
    draft = "Dự thảo kế hoạch rà soát thủ tục hành chính, vòng 1.\n".encode()
    with tmpfs(tmp_path / "ro", 16 * 1024 * 1024) as mounted:
        settings = on_tmpfs(seeded_db, tmp_path, mounted)
        url = settings.database_url
        try:
            opened = open_at(settings, LINE, Stage.DRAFT)
            token = opened.first
            with app_client(with_prefect(create_app(settings), None)) as client:
                csrf = csrf_in(client.get(f"/r/{token}"))
                before = figures(url)
                dispose_engines(url)  # a file open for writing forbids the remount
                remount(mounted, "ro")
                try:
                    during_get = client.get(f"/r/{token}")
                    during_post = send_draft(client, token, csrf, draft)
                finally:
                    remount(mounted, "rw")
                after_ro = figures(url)
                stored = send_draft(client, token, csrf, draft)
                after = figures(url)
        finally:
            dispose_engines(url)
    assert_clean_503(during_get)
    assert_clean_503(during_post)
    assert after_ro == before
    assert stored.status_code == 200, stored.text[-800:]
    assert after["versions"] == before["versions"] + 1
    assert after["links_used"] == before["links_used"] + 1
    ledger.record(
        Row(
            scenario="Records database read-only while the lead unit uploads a draft",
            injected="mount -o remount,ro under the SQLite file; GET + POST /r/{token}",
            before=before,
            after=after,
            observed=(
                "GET and POST: 503 page in Vietnamese, nothing written, link unused; "
                "after remount rw the same link stored the draft"
            ),
            extra={"during": "503/503", "after": 200},
        )
    )
