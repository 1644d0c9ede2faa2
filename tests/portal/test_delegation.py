"""A reviewer forwards a pending request to a colleague of the same unit."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import select

from definitions.stage_rules import Stage
from duyet.settings import Settings
from records.audit import events
from records.engine import session_scope
from records.models import Decision, LinkToken, Mail
from tests.portal.factories import csrf_in, open_at, snapshot, token_of_mail

COLLEAGUE = "nguyen.hoa@svhttdl.example"


def delegate(client: httpx.Client, token: str, email: str) -> httpx.Response:
    csrf = csrf_in(client.get(f"/r/{token}"))
    form = {"csrf": csrf, "email": email, "person": "Trần Minh"}
    return client.post(f"/r/{token}/delegate", data=form)


@pytest.mark.parametrize(
    ("email", "why"),
    [
        ("someone@gmail.example", "cùng tên miền"),
        ("qlvanhoa@svhttdl.example", "chính là địa chỉ"),
        ("not an address", "không hợp lệ"),
        ("", "không hợp lệ"),
    ],
)
def test_forwarding_outside_the_unit_is_refused(
    settings: Settings, client: httpx.Client, email: str, why: str
) -> None:
    opened = open_at(settings, "2.1.a", Stage.REVIEW)
    token = opened.links["phong-quan-ly-van-hoa"]
    before = snapshot(settings)
    answer = delegate(client, token, email)
    assert answer.status_code == 400 and why in answer.text
    assert snapshot(settings) == before
    assert client.get(f"/r/{token}").status_code == 200  # the link still works


def test_forwarding_kills_the_old_link_and_mails_a_new_one(
    settings: Settings, client: httpx.Client
) -> None:
    opened = open_at(settings, "2.1.a", Stage.REVIEW)
    old = opened.links["phong-quan-ly-van-hoa"]
    csrf = csrf_in(client.get(f"/r/{old}"))
    answer = delegate(client, old, COLLEAGUE)
    assert answer.status_code == 200 and COLLEAGUE in answer.text
    gone = client.get(f"/r/{old}")
    assert gone.status_code == 410 and f"chuyển cho {COLLEAGUE}" in gone.text
    again = client.post(f"/r/{old}/delegate", data={"csrf": csrf, "email": "b@svhttdl.example"})
    assert again.status_code == 410
    with session_scope(settings.database_url) as session:
        mail = session.scalars(select(Mail).where(Mail.to_addr == COLLEAGUE)).one()
        assert mail.kind == "review_request" and mail.recipient == "phong-quan-ly-van-hoa"
        new = token_of_mail(session, settings, mail)
    receipt = client.post(
        f"/r/{new}",
        data={"csrf": csrf_in(client.get(f"/r/{new}")), "decision": "approve", "person": "Hoa"},
    )
    assert receipt.status_code == 200
    with session_scope(settings.database_url) as session:
        decision = session.scalars(select(Decision)).one()
        assert (decision.reviewer_unit, decision.reviewer_person) == (
            "phong-quan-ly-van-hoa",
            "Hoa",
        )
        links = session.scalars(
            select(LinkToken).where(LinkToken.recipient_unit == "phong-quan-ly-van-hoa")
        ).all()
        trail = [
            (e.action, json.loads(e.payload))
            for e in events(session)
            if json.loads(e.payload).get("cycle_id") == opened.cycle_id
        ]
    old_link, new_link = links
    assert (old_link.recipient_email, new_link.recipient_email) == (
        "qlvanhoa@svhttdl.example",
        COLLEAGUE,
    )
    assert old_link.revoked_at is not None and new_link.used_at is not None
    actions = [action for action, _ in trail]
    assert actions.index("link.revoked") < actions.index("link.delegated")
    delegated = next(p for a, p in trail if a == "link.delegated")
    assert (delegated["link_id"], delegated["new_link_id"]) == (old_link.id, new_link.id)
    assert (delegated["from_email"], delegated["to_email"]) == (
        "qlvanhoa@svhttdl.example",
        COLLEAGUE,
    )
    issued = [p for a, p in trail if a == "link.issued" and p["recipient_email"] == COLLEAGUE]
    assert len(issued) == 1
