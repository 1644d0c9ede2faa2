from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from records.errors import LineUnknown
from records.models import AuditEvent, PlanLine
from records.plans import plan_line, plan_versions, record_lines_deployed
from tests.records.factories import PLAN_KEY, import_plan, plan_lines


def event_count(session: Session, action: str) -> int:
    query = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
    return session.scalar(query) or 0


def test_first_import_is_version_one_with_its_lines(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        plan = import_plan(session)
    assert plan.version == 1
    assert [line.code for line in plan.lines] == ["1.1", "1.4.b", "2.2.đ"]
    with sessions.begin() as session:
        line = plan_line(session, plan_key=PLAN_KEY, code="2.2.đ")
        assert line.due == date(2024, 6, 30)
        assert line.partners == ["phong-tcpc", "thanh-tra"]
        assert line.extra == {"products": ["Báo cáo"]}
        assert json.loads(plan.definition)["issuer"] == "Sở VHTTDL"
        payload = json.loads(session.scalars(select(AuditEvent.payload)).one())
    assert payload["line_codes"] == ["1.1", "1.4.b", "2.2.đ"]
    assert payload["version"] == 1


def test_same_content_again_keeps_the_version_and_logs_nothing(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        first = import_plan(session)
    with sessions.begin() as session:
        again = import_plan(session)
        assert again.version == first.version == 1
        assert event_count(session, "plan.imported") == 1


def test_changed_content_adds_a_version_and_keeps_history(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        import_plan(session)
    changed = plan_lines("1.1", "1.4.b", "3.4")
    changed[0]["title"] = "Nhiệm vụ 1.1 (sửa đổi)"
    with sessions.begin() as session:
        second = import_plan(session, lines=changed)
    assert second.version == 2
    with sessions.begin() as session:
        assert [p.version for p in plan_versions(session, plan_key=PLAN_KEY)] == [1, 2]
        assert session.scalar(select(func.count()).select_from(PlanLine)) == 6
        assert plan_line(session, plan_key=PLAN_KEY, code="1.1").title.endswith("(sửa đổi)")
        assert plan_line(session, plan_key=PLAN_KEY, code="1.1", version=1).plan_version == 1
        with pytest.raises(LineUnknown):  # dropped from the latest version
            plan_line(session, plan_key=PLAN_KEY, code="2.2.đ")
        assert plan_line(session, plan_key=PLAN_KEY, code="2.2.đ", version=1).code == "2.2.đ"
        assert event_count(session, "plan.imported") == 2


def test_deployment_is_logged_for_known_lines_only(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        import_plan(session)
        record_lines_deployed(
            session, plan_key=PLAN_KEY, version=1, deployments={"1.1": "d-1"}, actor="van-phong"
        )
        assert event_count(session, "lines.deployed") == 1
    with pytest.raises(LineUnknown), sessions.begin() as session:
        record_lines_deployed(
            session, plan_key=PLAN_KEY, version=1, deployments={"9.9": "d-9"}, actor="van-phong"
        )


def test_a_line_without_code_is_refused(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(ValueError, match="lacks code"), sessions.begin() as session:
        import_plan(session, lines=[{"title": "Không mã"}])
