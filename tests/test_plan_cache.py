"""The process's cache of plan lines (`records.plans.plan_line`), on real SQLite files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, inspect
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import DetachedInstanceError

from records import migrate
from records.engine import make_engine, session_factory
from records.errors import LineUnknown
from records.plans import line_values, plan_line
from tests.records.factories import PLAN_KEY, import_plan, plan_lines


class Statements(list[str]):
    """The SQL an engine ran, in order."""

    def touching(self, table: str) -> list[str]:
        return [sql for sql in self if f"FROM {table}" in sql]


def database(path: Path) -> tuple[Engine, Statements]:
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    engine = make_engine(url)
    ran = Statements()

    @event.listens_for(engine, "before_cursor_execute")
    def _record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        ran.append(statement)

    return engine, ran


@pytest.fixture
def db(tmp_path: Path) -> Iterator[tuple[sessionmaker[Session], Statements]]:
    engine, ran = database(tmp_path / "records.db")
    yield session_factory(engine), ran
    engine.dispose()


def test_a_second_read_asks_only_which_version(
    db: tuple[sessionmaker[Session], Statements],
) -> None:
    sessions, ran = db
    with sessions.begin() as session:
        import_plan(session)
    with sessions.begin() as session:
        plan_line(session, plan_key=PLAN_KEY, code="1.1")
    ran.clear()
    with sessions.begin() as session:
        line = plan_line(session, plan_key=PLAN_KEY, code="2.2.đ")
    assert line.title == "Nhiệm vụ 2.2.đ: rà soát thủ tục hành chính"
    assert line.plan_version == 1
    assert ran.touching("plan_lines") == []
    assert len(ran.touching("plan_versions")) == 1


def test_a_new_import_is_seen_at_once(db: tuple[sessionmaker[Session], Statements]) -> None:
    sessions, _ = db
    with sessions.begin() as session:
        import_plan(session)
    with sessions.begin() as session:
        assert plan_line(session, plan_key=PLAN_KEY, code="1.1").plan_version == 1
    changed = plan_lines("1.1")
    changed[0]["title"] = "Nhiệm vụ 1.1 (sửa đổi)"
    with sessions.begin() as session:
        import_plan(session, lines=changed)
    with sessions.begin() as session:
        assert plan_line(session, plan_key=PLAN_KEY, code="1.1").title.endswith("(sửa đổi)")
        old = plan_line(session, plan_key=PLAN_KEY, code="1.1", version=1)
        assert not old.title.endswith("(sửa đổi)")


def test_an_import_rolled_back_leaves_nothing_behind(
    db: tuple[sessionmaker[Session], Statements],
) -> None:
    sessions, _ = db
    with sessions.begin() as session:
        import_plan(session)
    with sessions() as session:
        session.begin()
        import_plan(session, lines=plan_lines("1.1", "9.9"))
        assert plan_line(session, plan_key=PLAN_KEY, code="9.9").plan_version == 2
        session.rollback()
    with sessions.begin() as session:
        import_plan(session, lines=plan_lines("1.1", "3.4"))  # version 2 again, other lines
    with sessions.begin() as session:
        assert plan_line(session, plan_key=PLAN_KEY, code="3.4").plan_version == 2
        with pytest.raises(LineUnknown):
            plan_line(session, plan_key=PLAN_KEY, code="9.9")


def test_two_databases_share_nothing(tmp_path: Path) -> None:
    engines = [database(tmp_path / f"records-{n}.db") for n in (1, 2)]
    for engine, _ in engines:
        with session_factory(engine).begin() as session:
            import_plan(session)  # the same content, version and hash in both
    for engine, ran in engines:
        ran.clear()
        with session_factory(engine).begin() as session:
            plan_line(session, plan_key=PLAN_KEY, code="1.1")
        assert len(ran.touching("plan_lines")) == 1  # each read its own lines
        engine.dispose()


def test_a_line_is_the_callers_own_copy(db: tuple[sessionmaker[Session], Statements]) -> None:
    sessions, _ = db
    with sessions.begin() as session:
        import_plan(session)
    with sessions.begin() as session:
        line = plan_line(session, plan_key=PLAN_KEY, code="1.1")
        assert line not in session
    assert inspect(line).detached
    line.title = "đã sửa"
    line.partners.append("so-tu-phap")
    line.extra["products"].append("Tờ trình")
    with pytest.raises(DetachedInstanceError):
        line.plan  # noqa: B018 — never read, and in no session to read it
    with sessions.begin() as session:
        again = plan_line(session, plan_key=PLAN_KEY, code="1.1")
    assert again.title == "Nhiệm vụ 1.1: rà soát thủ tục hành chính"
    assert again.partners == ["phong-tcpc", "thanh-tra"]
    assert again.extra == {"products": ["Báo cáo"]}


def test_a_pages_view_of_a_line_is_the_cached_values_read_only(
    db: tuple[sessionmaker[Session], Statements],
) -> None:
    sessions, _ = db
    with sessions.begin() as session:
        import_plan(session)
        values = line_values(session, plan_key=PLAN_KEY, code="2.2.đ")
        line = plan_line(session, plan_key=PLAN_KEY, code="2.2.đ")
    assert (values["code"], values["title"], values["extra"]) == (line.code, line.title, line.extra)
    with pytest.raises(TypeError):
        values["title"] = "changed"  # type: ignore[index]
