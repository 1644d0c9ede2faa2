"""Two departments' plans in one installation: the same line code (2.1.a) of each moves through
its cycle on a real records database; each asks its own units, mails from its own domain,
numbers in its own register and signs with its own key."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from definitions.stage_rules import Stage
from duyet.definition_files import Definitions, definitions, mail_directories
from duyet.engine import evaluate
from duyet.records_bridge import record_import
from duyet.settings import Settings, get_settings
from notifications.sender import send_due
from publishing.issue import Issued, ensure_signing_keys, issue_cycle_document
from publishing.signing import verify_pdf
from records.cycles import advance_stage
from records.engine import session_scope
from records.migrate import upgrade
from records.models import Mail
from tasks.mail import published
from tests.factories import OTHER_PLAN
from tests.portal.conftest import portal_env
from tests.portal.factories import SEED_PLAN, now, open_at
from tests.smtp_sink import smtp_sink

CODE = "2.1.a"  # in both plans, led by each department's Văn phòng


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("tenants")
    settings = get_settings(portal_env(root) | {"DUYET_SIGNING_KEYS_DIR": str(root / "keys")})
    upgrade(settings.database_url)
    defs = definitions(settings)
    for plan_id in (SEED_PLAN, OTHER_PLAN):
        record_import(defs.plan(plan_id), settings=settings, actor="t")
    assert {"SVHTTDL", "STP", "UBND"} <= set(ensure_signing_keys(settings, defs))
    return settings


@pytest.fixture(scope="module")
def cycles(settings: Settings) -> dict[str, tuple[list[Mail], Issued, list[Mail]]]:
    """Per plan: the review requests of its 2.1.a, the issued document, the distribution."""
    defs = definitions(settings)
    found = {}
    for plan_id in (SEED_PLAN, OTHER_PLAN):
        found[plan_id] = _through_publication(settings, defs, plan_id)
    return found


def _through_publication(
    settings: Settings, defs: Definitions, plan_id: str
) -> tuple[list[Mail], Issued, list[Mail]]:
    opened = open_at(settings, CODE, Stage.REVIEW, plan_key=plan_id)
    with session_scope(settings.database_url) as session:
        requests = _mail_of(session, opened.cycle_id)
        for stage in (Stage.APPROVAL, Stage.PUBLICATION):
            advance_stage(session, cycle_id=opened.cycle_id, target=stage, actor="t")
        issued = issue_cycle_document(
            session, settings, defs, cycle_id=opened.cycle_id, actor="t", now=now()
        )
        view = evaluate(session, defs, cycle_id=opened.cycle_id, now=now())
        published(session, settings, defs, view, issued)
        sent = [m for m in _mail_of(session, opened.cycle_id) if m not in requests]
        session.expunge_all()
    return requests, issued, sent


def _mail_of(session: Session, cycle_id: str) -> list[Mail]:
    return list(session.scalars(select(Mail).where(Mail.cycle_id == cycle_id).order_by(Mail.id)))


def test_each_plan_has_its_own_directory(settings: Settings) -> None:
    defs = definitions(settings)
    assert defs.units(SEED_PLAN).organisation.code == "SVHTTDL"
    assert defs.units(OTHER_PLAN).organisation.code == "STP"
    assert defs.units(OTHER_PLAN).organisation.mail_domain == "stp.example"
    assert len(defs.directories()) == 2


def test_the_reviewers_are_the_plans_own_units(
    cycles: dict[str, tuple[list[Mail], Issued, list[Mail]]],
) -> None:
    for plan_id, domain in ((SEED_PLAN, "svhttdl.example"), (OTHER_PLAN, "stp.example")):
        requests, _, _ = cycles[plan_id]
        assert requests and all(m.to_addr.endswith(f"@{domain}") for m in requests)
        assert all(m.message_id.endswith(f"@{domain}>") for m in requests)
    other = {m.recipient for m in cycles[OTHER_PLAN][0]}
    assert "phong-hanh-chinh-tu-phap" in other and "phong-quan-ly-van-hoa" not in other


def test_each_plan_numbers_in_its_own_register_and_signs_with_its_own_key(
    settings: Settings, cycles: dict[str, tuple[list[Mail], Issued, list[Mail]]]
) -> None:
    seed, other = cycles[SEED_PLAN][1], cycles[OTHER_PLAN][1]
    assert seed.number_line == "Số: 01/KH-SVHTTDL"
    assert other.number_line == "Số: 01/KH-STP"
    assert (other.record.issuer_code, other.record.plan_key) == ("STP", OTHER_PLAN)
    keys = Path(settings.keys_dir("STP")).parent
    own = verify_pdf(other.pdf, trust_roots=[keys / "STP" / "ca.pem"])
    assert own.ok and own.signer is not None and "Sở Tư pháp" in own.signer
    assert not verify_pdf(other.pdf, trust_roots=[keys / "SVHTTDL" / "ca.pem"]).trusted


def test_the_document_goes_to_the_plans_own_recipients(
    cycles: dict[str, tuple[list[Mail], Issued, list[Mail]]],
) -> None:
    sent = cycles[OTHER_PLAN][2]
    assert sent and {m.to_addr.rsplit("@", 1)[1] for m in sent} == {"stp.example"}


def test_each_plans_mail_leaves_from_its_own_department(
    settings: Settings, cycles: dict[str, tuple[list[Mail], Issued, list[Mail]]]
) -> None:
    with smtp_sink() as (controller, recorder):
        mailer = settings.model_copy(
            update={"smtp_host": "127.0.0.1", "smtp_port": controller.port}
        )
        report = send_due(mailer, directory=mail_directories(definitions(mailer)))
    assert report.error is None and report.sent == len(recorder.messages)
    for plan_id, domain in ((SEED_PLAN, "svhttdl.example"), (OTHER_PLAN, "stp.example")):
        requests, _issued, distributed = cycles[plan_id]
        ids = {m.message_id.strip("<>") for m in (*requests, *distributed)}
        received = [r for r in recorder.messages if r.message["Message-ID"].strip("<>") in ids]
        assert len(received) == len(ids), plan_id
        assert {r.envelope_from for r in received} == {f"duyet@{domain}"}, plan_id
        assert all(domain in str(r.message["From"]) for r in received), plan_id
