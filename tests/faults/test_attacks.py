"""Attacks on the portal, each one scenario against the real app (in-process ASGI) on a real
SQLite records database: link tokens, mail scanners, CSRF and cross-origin posts, the signed-in
pages, a fuzzer, and tampering with the audit chain. A refused attack changes nothing; a GET of
a genuine link writes `link.opened` to the audit chain, by design, and nothing else."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import secrets
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
import schemathesis
from argon2 import PasswordHasher
from fastapi import FastAPI
from sqlalchemy import create_engine, select

from definitions.stage_rules import Stage
from duyet.messages import AUDIT_BREAKS, AUDIT_MESSAGES
from duyet.settings import Settings
from flows.control import cancel_cycle_everywhere
from portal import passwords
from portal.security import (
    LINK_FORM_MAX_AGE,
    MAX_FAILURES,
    MAX_FAILURES_PER_IP,
    SESSION_MAX_AGE,
    WINDOW,
    Keys,
    SessionData,
    link_binding,
    session_binding,
)
from records.audit import canonical_json, entry_hash, events
from records.engine import session_scope
from records.models import AuditEvent, DocumentVersion, LoginAttempt, PublishedDocument, User
from tests.faults.attack_helpers import (
    SCANNERS,
    actions_since,
    answer_link,
    audit_cli,
    cookie_of,
    delta,
    entry_copy,
    figures,
    flip,
    flip_part,
    fuzz,
    last_seq,
    leaks,
    link_row,
    move,
    play,
    publish,
    rehashed,
    requests_now,
    scan,
    secrets_of,
    set_link,
    signed_ago,
    sql,
    sqlite_copy,
    stage_of,
)
from tests.faults.ledger import Ledger, Row
from tests.portal.asgi import app_client
from tests.portal.factories import REVIEWERS_2_1_A, add_account, csrf_in, open_at, sign_in
from tests.records.factories import tamper


def test_link_token_attacks_are_refused_change_nothing_and_reveal_nothing(
    settings: Settings, client: httpx.Client, ledger: Ledger
) -> None:
    live = open_at(settings, "2.1.a", Stage.REVIEW)
    used, expired, victim = (live.links[unit] for unit in REVIEWERS_2_1_A)
    stale_stage = open_at(settings, "1.2", Stage.REVIEW)  # then approval: review links are over
    stale_round = open_at(settings, "1.3", Stage.REVIEW)  # then round 2: round 1's links are over
    withdrawn = open_at(settings, "1.5", Stage.REVIEW)  # then cancelled by the Office
    old_stage, old_round, cancelled = stale_stage.first, stale_round.first, withdrawn.first
    tokens = (used, expired, victim, old_stage, old_round, cancelled)
    csrf = {token: csrf_in(client.get(f"/r/{token}")) for token in tokens}  # while they work
    form = {"csrf": csrf[used], "decision": "approve", "comment": "Thống nhất."}
    assert client.post(f"/r/{used}", data=form).status_code == 200  # used once, for real
    set_link(settings, expired, expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
    move(settings, stale_stage.cycle_id, Stage.APPROVAL)
    move(settings, stale_round.cycle_id, Stage.REVIEW, next_round=b"Du thao vong 2\n")
    assert requests_now(settings, stale_round.cycle_id)  # round 2's own links went out
    asyncio.run(cancel_cycle_everywhere(settings, withdrawn.cycle_id, actor="office", reason="Rút"))
    forged = f"{secrets.token_urlsafe(24)}.{secrets.token_urlsafe(17)[:22]}"
    attacks = [  # (attack, token, the CSRF token posted with it, status)
        ("forged", forged, csrf[victim], 404),
        ("random part bit-flipped", flip_part(victim, 0), csrf[victim], 404),
        ("MAC bit-flipped", flip_part(victim, 1), csrf[victim], 404),
        ("truncated", victim[:-1], csrf[victim], 404),
        ("MAC cut off", victim.split(".")[0], csrf[victim], 404),
        ("expired", expired, csrf[expired], 410),
        ("replayed", used, csrf[used], 409),
        ("another stage's", old_stage, csrf[old_stage], 409),
        ("another round's", old_round, csrf[old_round], 409),
        ("cancelled cycle's", cancelled, csrf[cancelled], 410),
    ]
    cycle_of = {
        victim: live.cycle_id,
        expired: live.cycle_id,
        used: live.cycle_id,
        old_stage: stale_stage.cycle_id,
        old_round: stale_round.cycle_id,
        cancelled: withdrawn.cycle_id,
    }
    before, seq = figures(settings), last_seq(settings)
    statuses: Counter[int] = Counter()
    opened = 0
    for name, token, csrf_token, status in attacks:
        hidden = secrets_of(settings, cycle_of.get(token, live.cycle_id))
        form = {"csrf": csrf_token, "decision": "approve", "comment": "x"}
        for method in ("GET", "HEAD", "POST"):
            answer = client.request(method, f"/r/{token}", data=form if method == "POST" else None)
            assert answer.status_code == status, (name, method, answer.text[:300])
            statuses[answer.status_code] += 1
            if name == "replayed":  # its holder sees the receipt of their own decision, no more
                shown = leaks(answer.text, hidden[:3], hashes=False)
            else:
                shown = leaks(answer.text, hidden)
            assert shown == [], (name, method)
        opened += status != 404  # a genuine link's GET is logged, whatever its state
    # Another recipient's token, posted with the CSRF token of the attacker's own page.
    answer = client.post(f"/r/{victim}", data={"csrf": csrf[used], "decision": "approve"})
    assert answer.status_code == 403
    assert leaks(answer.text, secrets_of(settings, live.cycle_id)) == []
    statuses[answer.status_code] += 1
    # The stored binding moved (cycle, stage, round, recipient, document): the MAC no longer fits.
    bound = link_row(settings, victim)
    rebound = {
        "cycle_id": stale_stage.cycle_id,
        "stage": "approval",
        "round": 2,
        "recipient_unit": REVIEWERS_2_1_A[0],
        "document_sha256": "0" * 64,
    }
    for column, value in rebound.items():
        set_link(settings, victim, **{column: value})
        for method in ("GET", "POST"):
            form = {"csrf": csrf[victim], "decision": "approve"}
            answer = client.request(method, f"/r/{victim}", data=form if method == "POST" else None)
            assert answer.status_code == 404, (column, method)
            statuses[answer.status_code] += 1
        set_link(settings, victim, **{column: bound[column]})
    page = client.get(f"/r/{victim}")  # the victim's link still works, and shows what it is for
    assert page.status_code == 200 and leaks(page.text, secrets_of(settings, live.cycle_id))
    after = figures(settings)
    assert delta(before, after) == {"audit": opened + 1}
    assert actions_since(settings, seq) == {"link.opened": opened + 1}
    ledger.record(
        Row(
            scenario="Forged, altered, stale or misused link tokens are refused and reveal nothing",
            injected=(
                "GET/HEAD/POST with forged, bit-flipped (random part, MAC), truncated, expired, "
                "replayed, another stage's or round's, a cancelled cycle's tokens; another "
                "recipient's token with this page's CSRF; the stored binding edited"
            ),
            before=before,
            after=after,
            observed=(
                "404 unknown or altered, 410 expired or cancelled, 409 used or stage over, 403 "
                "foreign CSRF; no line, document, unit or hash on any refusal page; only "
                "link.opened written"
            ),
            extra={
                "requests": sum(statuses.values()),
                "statuses": dict(sorted(statuses.items())),
                "link.opened": opened + 1,
            },
        )
    )


def test_mail_scanners_fetching_every_link_of_a_whole_cycle_decide_nothing(
    keyed: Settings, client: httpx.Client, ledger: Ledger
) -> None:
    settings = keyed
    cycle_id = open_at(settings, "2.1.a", Stage.DRAFT).cycle_id
    before = figures(settings)
    statuses: Counter[str] = Counter()
    by_scanners: Counter[str] = Counter()

    def scanners(urls: list[str]) -> None:
        """Every gateway fetches every link of the new mail as it arrives, before its reader."""
        links = sum("/r/" in url for url in urls)
        ahead, seq = figures(settings), last_seq(settings)
        statuses.update(scan(client, urls, "HEAD"))
        assert figures(settings) == ahead  # HEAD writes nothing at all
        statuses.update(scan(client, urls, "GET"))
        fetched = 2 * len(SCANNERS) * links
        assert delta(ahead, figures(settings)) == ({"audit": fetched} if links else {})
        assert actions_since(settings, seq) == ({"link.opened": fetched} if links else {})
        by_scanners.update(delta(ahead, figures(settings)))

    played = play(client, settings, cycle_id, on_mail=scanners)
    after = figures(settings)
    assert stage_of(settings, cycle_id)[2] == "published"
    assert played.steps == ["advance", "back_to_draft", "advance", "advance", "advance", "publish"]
    assert by_scanners == {"audit": 2 * len(SCANNERS) * played.links}
    fetches = sum(statuses.values())
    ledger.record(
        Row(
            scenario="Mail scanners prefetching every link decide nothing; the links still work",
            injected=(
                f"{len(SCANNERS)} scanner user agents (SafeLinks, Barracuda, Proofpoint, "
                "Google-Safety, curl, python-requests) GET and HEAD every URL of every mail of a "
                "whole cycle (draft, review with changes, draft, review, approval, publication), "
                "twice, as each mail is queued"
            ),
            before=before,
            after=after,
            observed=(
                f"{fetches} fetches: 0 decisions, 0 versions, 0 links used, 0 mails by scanners; "
                f"{by_scanners['audit']} link.opened (HEAD: none); the people then answered "
                "through the same links and the cycle was published"
            ),
            extra={
                "mails": played.mails,
                "links": played.links,
                "statuses": dict(sorted(statuses.items())),
                "scanners' changes": dict(by_scanners),
            },
        )
    )


def test_forged_stale_foreign_or_cross_origin_posts_are_refused(
    settings: Settings,
    app: FastAPI,
    client: httpx.Client,
    ledger: Ledger,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    live = open_at(settings, "2.1.a", Stage.REVIEW)
    target, other = live.links[REVIEWERS_2_1_A[0]], live.links[REVIEWERS_2_1_A[1]]
    valid = csrf_in(client.get(f"/r/{target}"))
    foreign = csrf_in(client.get(f"/r/{other}"))  # genuine, but another link's page's
    keys = app.state.portal.keys
    stale = signed_ago(
        monkeypatch, LINK_FORM_MAX_AGE + 60, lambda: keys.csrf_token(link_binding(target))
    )
    add_account(settings, "vanphong", "office")
    assert sign_in(client, "vanphong").status_code == 303
    board = csrf_in(client.get("/office"))
    evil = {"Origin": "https://evil.example"}
    cross = {"Sec-Fetch-Site": "cross-site"}
    sibling = {"Sec-Fetch-Site": "same-site", "Origin": "null"}
    https = {"Origin": "https://portal.test"}
    decide = {"decision": "approve", "comment": "Thống nhất."}
    forward = {"email": "nguyen.hoa@svhttdl.example", "person": "Hoa"}
    cancel = {"cycle_id": live.cycle_id, "reason": "Rút"}
    attempts = [  # (attack, path, form, headers)
        ("no csrf field", f"/r/{target}", decide, {}),
        ("wrong csrf", f"/r/{target}", decide | {"csrf": "forged"}, {}),
        ("another link's csrf", f"/r/{target}", decide | {"csrf": foreign}, {}),
        ("expired csrf", f"/r/{target}", decide | {"csrf": stale}, {}),
        ("Origin evil, valid csrf", f"/r/{target}", decide | {"csrf": valid}, evil),
        ("Sec-Fetch-Site cross-site, valid csrf", f"/r/{target}", decide | {"csrf": valid}, cross),
        ("Sec-Fetch-Site same-site", f"/r/{target}", decide | {"csrf": valid}, sibling),
        ("Origin https, portal on http", f"/r/{target}", decide | {"csrf": valid}, https),
        ("delegate, no csrf", f"/r/{target}/delegate", forward, {}),
        ("delegate, Origin evil", f"/r/{target}/delegate", forward | {"csrf": valid}, evil),
        ("office cancel, no csrf", "/office/cancel", cancel, {}),
        ("office cancel, Origin evil", "/office/cancel", cancel | {"csrf": board}, evil),
        ("office cancel, cross-site", "/office/cancel", cancel | {"csrf": board}, cross),
        ("logout, Origin evil", "/logout", {"csrf": board}, evil),
    ]
    before, seq = figures(settings), last_seq(settings)
    for name, path, form, headers in attempts:
        answer = client.post(path, data=form, headers=headers)
        assert answer.status_code == 403, (name, answer.status_code, answer.text[:300])
        assert "Phiên làm việc không hợp lệ" in answer.text, name
    after = figures(settings)
    assert after == before and last_seq(settings) == seq
    assert client.get("/office").status_code == 200  # still signed in: logout was refused
    # The same forms from the portal's own pages go through (a browser's own form under
    # `Referrer-Policy: no-referrer` says `Origin: null`; Sec-Fetch-Site still tells).
    own = {"Origin": settings.require_public_base_url(), "Sec-Fetch-Site": "same-origin"}
    assert (
        client.post(f"/r/{target}", data=decide | {"csrf": valid}, headers=own).status_code == 200
    )
    null = {"Origin": "null", "Sec-Fetch-Site": "same-origin"}
    assert client.post("/logout", data={"csrf": board}, headers=null).status_code == 303
    ledger.record(
        Row(
            scenario="Forms without their own CSRF token, or posted from another site, are refused",
            injected=(
                "POST a decision, a delegation, an Office cancel and a logout with no, a wrong, "
                "another link's or an expired CSRF token, or a valid one from Origin "
                "https://evil.example or with Sec-Fetch-Site: cross-site"
            ),
            before=before,
            after=after,
            observed=(
                f"{len(attempts)} posts: 403 each, nothing recorded; the same forms from the "
                "portal's own origin then went through"
            ),
            extra={"refused": len(attempts)},
        )
    )


def test_signed_in_pages_refuse_strangers_wrong_roles_old_or_forged_sessions_and_guessers(
    settings: Settings, app: FastAPI, ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    # argon2 at its lowest cost: ~40 logins here, and the limiter, not the hash, is under test.
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", lambda: cheap)
    monkeypatch.setattr(passwords, "_dummy_hash", lambda: cheap.hash("no such account"))
    live = open_at(settings, "2.1.a", Stage.REVIEW)
    add_account(settings, "vanphong", "office")
    add_account(settings, "kiemtoan", "auditor")
    with session_scope(settings.database_url) as db:
        office_id = db.scalars(select(User.id).where(User.username == "vanphong")).one()
        sha = db.scalars(select(DocumentVersion.sha256)).first()
    keys: Keys = app.state.portal.keys
    forms = {
        "/office/start": {"scope": "line", "code": "1.2"},
        "/office/resend": {"cycle_id": live.cycle_id, "unit": REVIEWERS_2_1_A[0]},
        "/office/cancel": {"cycle_id": live.cycle_id, "reason": "Rút"},
    }
    office_pages = ["/office"]
    audit_pages = ["/audit", "/audit/lines/2.1.a", "/audit/export?format=csv"]
    audit_pages.append(f"/audit/documents/{sha}")
    seen: Counter[str] = Counter()

    def expect(client: httpx.Client, method: str, path: str, status: int, **kw: object) -> None:
        answer = client.request(method, path, **kw)  # type: ignore[arg-type]
        assert answer.status_code == status, (method, path, answer.status_code)
        if status == 303:  # to the login page, and back here afterwards
            assert answer.headers["location"].startswith("/login?next=%2F"), path
        seen[str(status)] += 1

    before, seq = figures(settings), last_seq(settings)
    with app_client(app) as stranger:
        for path in office_pages + audit_pages:
            expect(stranger, "GET", path, 303)
        for path, form in forms.items():
            expect(stranger, "POST", path, 401, data=form | {"csrf": "x"})
    with app_client(app) as auditor, app_client(app) as office:
        assert sign_in(auditor, "kiemtoan").status_code == 303
        assert sign_in(office, "vanphong").status_code == 303
        auditors = csrf_in(auditor.get("/audit"))
        expect(auditor, "GET", "/office", 403)
        for path, form in forms.items():  # an auditor, with the CSRF token of their own session
            expect(auditor, "POST", path, 403, data=form | {"csrf": auditors})
        for path in audit_pages:
            expect(office, "GET", path, 403)
        for path, form in forms.items():  # the Office, without its CSRF token or with another's
            expect(office, "POST", path, 403, data=form)
            expect(office, "POST", path, 403, data=form | {"csrf": auditors})
        genuine = office.cookies["duyet_session"]
    payload, stamp, signature = genuine.split(".")
    sid = SessionData(sid="sid-from-yesterday", user_id=office_id)
    forged = {
        "expired": signed_ago(monkeypatch, SESSION_MAX_AGE + 60, lambda: cookie_of(keys, sid)),
        "signature edited": f"{payload}.{stamp}.{flip(signature)}",
        "payload edited": f"{flip(payload)}.{stamp}.{signature}",
        "another key": cookie_of(Keys(b"k" * 32, secure_cookies=False), sid),
    }
    with app_client(app) as today:  # the same session, signed now, is one
        today.cookies.set("duyet_session", cookie_of(keys, sid))
        assert today.get("/office").status_code == 200
    for cookie in forged.values():
        with app_client(app) as late:
            late.cookies.set("duyet_session", cookie)
            for path in office_pages + audit_pages:
                expect(late, "GET", path, 303)
            csrf = keys.csrf_token(session_binding(sid))  # even with a fresh, matching token
            for path, form in forms.items():
                expect(late, "POST", path, 401, data=form | {"csrf": csrf})
    # Guessing: 5 failures for one account, or 20 from one address (even with a success of the
    # guesser's own account in between), and then even the right password is refused.
    with app_client(app, client_ip="10.6.6.6") as guesser:
        for attempt in range(MAX_FAILURES):
            assert sign_in(guesser, "vanphong", f"doan-{attempt}").status_code == 401
        blocked = sign_in(guesser, "vanphong")
        assert blocked.status_code == 429 and blocked.headers["retry-after"] == "900"
        assert guesser.get("/office").status_code == 303
    with app_client(app, client_ip="10.7.7.7") as sprayer:
        for attempt in range(MAX_FAILURES_PER_IP - 1):
            assert sign_in(sprayer, f"khach-{attempt}", "doan").status_code == 401
        assert sign_in(sprayer, "kiemtoan").status_code == 303  # the guesser's own account
        assert sign_in(sprayer, "khach-cuoi", "doan").status_code == 401
        assert sign_in(sprayer, "vanphong").status_code == 429
    seen["429"] += 2
    after = figures(settings)
    assert after == before and last_seq(settings) == seq
    with session_scope(settings.database_url) as db:  # a quarter of an hour later
        for tried in db.scalars(select(LoginAttempt)):
            tried.at -= WINDOW
    with app_client(app, client_ip="10.6.6.6") as guesser:
        assert sign_in(guesser, "vanphong").status_code == 303
    ledger.record(
        Row(
            scenario="Office and audit pages refuse strangers, wrong roles, old or forged "
            "sessions, CSRF-less forms and password guessers",
            injected=(
                "anonymous GET/POST; auditor on Office actions, Office on audit pages and exports; "
                "session cookies expired, edited, signed with another key; Office forms without "
                "or with another session's CSRF; 5 wrong passwords per account, 20 per address"
            ),
            before=before,
            after=after,
            observed=(
                "303 to login (GET) and 401 (POST) without a valid session, 403 wrong role or "
                "CSRF, 429 with the right password while limited; nothing recorded"
            ),
            extra=dict(sorted(seen.items())),
        )
    )


def test_fuzzing_the_api_over_live_data_finds_no_server_error(
    keyed: Settings, app: FastAPI, client: httpx.Client, ledger: Ledger
) -> None:
    settings = keyed
    published = publish(settings, client, "1.2")
    live = open_at(settings, "2.1.a", Stage.REVIEW)
    used, expired, valid = (live.links[unit] for unit in REVIEWERS_2_1_A)
    assert answer_link(client, used, decision="approve").status_code == 200
    set_link(settings, expired, expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
    draft = open_at(settings, "1.3", Stage.DRAFT)
    withdrawn = open_at(settings, "1.5", Stage.REVIEW)
    asyncio.run(cancel_cycle_everywhere(settings, withdrawn.cycle_id, actor="office", reason="x"))
    with session_scope(settings.database_url) as db:
        documents = list(db.scalars(select(PublishedDocument.id)))
        hashes = list(db.scalars(select(DocumentVersion.sha256)))
    real = {
        "token": [used, expired, valid, draft.first, withdrawn.first],
        "code": ["1.2", "2.1.a", "1.3", "9.9"],
        "sha256": hashes,
        "doc_id": documents,
        "cycle_id": [published, live.cycle_id, withdrawn.cycle_id],
    }
    add_account(settings, "quantri", "admin")
    assert sign_in(client, "quantri").status_code == 303
    admin = {"duyet_session": client.cookies["duyet_session"]}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    before, seq = figures(settings), last_seq(settings)
    started = time.monotonic()
    statuses = fuzz(schema, real, identities=[None, admin])
    elapsed = time.monotonic() - started
    after = figures(settings)
    assert set(delta(before, after)) <= {"audit"}  # GETs of genuine links log their opening
    assert set(actions_since(settings, seq)) <= {"link.opened"}
    ledger.record(
        Row(
            scenario="Fuzzing every operation of the OpenAPI schema over live data finds no 5xx",
            injected=(
                "schemathesis, valid and invalid input, anonymous and as an administrator, path "
                "parameters often real (valid, used, expired, revoked links; line codes; document "
                "hashes; a published document; open, cancelled and published cycles)"
            ),
            before=before,
            after=after,
            observed=(
                f"{sum(statuses.values())} requests in {elapsed:.0f} s: no 5xx; nothing changed "
                f"but {after['audit'] - before['audit']} link.opened"
            ),
            extra={"statuses": dict(sorted(statuses.items()))},
        )
    )


def test_every_kind_of_audit_tampering_is_named_at_its_first_broken_seq(
    keyed: Settings, client: httpx.Client, ledger: Ledger, tmp_path: Path
) -> None:
    settings = keyed
    cycle_id = open_at(settings, "2.1.a", Stage.REVIEW).cycle_id
    play(client, settings, cycle_id, changes_in_round_1=False)  # 4 decisions, then published
    intact = audit_cli(settings.database_url, "verify")
    assert intact.exit_code == 0, intact.output
    head = intact.output.split(AUDIT_MESSAGES["head"].format(hash=""))[1].strip()
    with session_scope(settings.database_url) as db:
        rows = list(events(db))
        for row in rows:
            db.expunge(row)
    n = rows[-1].seq
    k = next(r.seq for r in rows if r.action == "decision.recorded")
    issued = next(r.seq for r in rows if r.action == "document.issued")
    decided = rows[k - 1]
    verdict = json.loads(decided.payload)
    assert verdict["verdict"] == "approve"
    rejected = canonical_json(verdict | {"verdict": "reject"})
    forged = AuditEvent(
        seq=k + 1,
        at=decided.at,
        actor=decided.actor,
        action=decided.action,
        subject=decided.subject,
        payload=rejected,
        prev_hash=decided.hash,
    )
    forged.hash = entry_hash(forged)
    shift = [  # seq k+1… move up by one, through negative numbers (the key stays unique)
        f"UPDATE audit_events SET seq = -(seq + 1) WHERE seq > {k}",
        "UPDATE audit_events SET seq = -seq WHERE seq < 0",
    ]
    insert = (
        "INSERT INTO audit_events (seq, at, actor, action, subject, payload, prev_hash, hash) "
        "VALUES ({seq}, {at}, {actor}, {action}, {subject}, {payload}, {prev}, {hash})"
    )
    rewritten = [entry_copy(r) for r in rows]
    rewritten[k - 1].payload = rejected
    kinds = {  # kind: (SQL, with the recorded head, first broken seq, reason, its parameters)
        "payload edited (approve -> reject)": (
            [f"UPDATE audit_events SET payload = {sql(rejected)} WHERE seq = {k}"],
            False, k, "hash", {},
        ),
        "payload no longer canonical": (
            [f"UPDATE audit_events SET payload = payload || ' ' WHERE seq = {k}"],
            False, k, "payload", {},
        ),
        "hash replaced": (
            [f"UPDATE audit_events SET hash = '{'f' * 64}' WHERE seq = {k}"],
            False, k, "hash", {},
        ),
        "row deleted": ([f"DELETE FROM audit_events WHERE seq = {k}"], False, k, "missing", {}),
        "first row deleted": (["DELETE FROM audit_events WHERE seq = 1"], False, 1, "missing", {}),
        "rows reordered": (
            [
                f"UPDATE audit_events SET seq = -seq WHERE seq IN ({k}, {issued})",
                f"UPDATE audit_events SET seq = {issued} WHERE seq = -{k}",
                f"UPDATE audit_events SET seq = {k} WHERE seq = -{issued}",
            ],
            False, k, "prev-hash", {},
        ),
        "row slipped in before the first": (
            [
                "INSERT INTO audit_events (seq, at, actor, action, subject, payload, prev_hash, "
                f"hash) SELECT 0, at, actor, action, subject, payload, prev_hash, '{'e' * 64}' "
                "FROM audit_events WHERE seq = 1"
            ],
            False, 1, "inserted", {"found": 0},
        ),
        "forged row inserted, its own hash right": (
            [
                *shift,
                insert.format(
                    seq=k + 1,
                    at=sql(forged.at),
                    actor=sql(forged.actor),
                    action=sql(forged.action),
                    subject=sql(forged.subject),
                    payload=sql(forged.payload),
                    prev=sql(forged.prev_hash),
                    hash=sql(forged.hash),
                ),
            ],
            False, k + 2, "prev-hash", {},
        ),
        "tail truncated": (
            [f"DELETE FROM audit_events WHERE seq > {n - 3}"],
            True, n - 2, "truncated", {"last": n - 3},
        ),
        "decision edited and every later hash recomputed": (
            rehashed(rewritten, k),
            True, n + 1, "truncated", {"last": n},
        ),
    }  # fmt: skip
    before = figures(settings)
    found: dict[str, str] = {}
    unseen_without_head: list[str] = []
    for index, (kind, (statements, with_head, seq, reason, params)) in enumerate(kinds.items()):
        url = sqlite_copy(settings.database_url, tmp_path / f"tampered-{index}.db")
        engine = create_engine(url)
        tamper(engine, *statements)
        engine.dispose()
        if with_head:  # a clean cut, or a rewrite: the chain alone cannot tell
            plain = audit_cli(url, "verify")
            if plain.exit_code == 0:
                unseen_without_head.append(kind)
        result = audit_cli(url, "verify", *(["--expect-head", head] if with_head else []))
        expected = AUDIT_MESSAGES["broken"].format(
            seq=seq, reason=AUDIT_BREAKS[reason].format(**params)
        )
        assert result.exit_code == 1 and expected in result.output, (kind, result.output)
        found[kind] = f"seq {seq} ({reason})"
    # An unkeyed chain cannot show a clean cut or a consistent rewrite by itself: only the head
    # recorded elsewhere (`--expect-head`) can.
    assert unseen_without_head == [
        "tail truncated",
        "decision edited and every later hash recomputed",
    ]
    after = figures(settings)
    assert after == before and audit_cli(settings.database_url, "verify").exit_code == 0
    ledger.record(
        Row(
            scenario="Each kind of tampering with the audit chain is named at its first broken seq",
            injected=(
                f"after a published cycle ({n} entries), on copies of the database with the "
                "append-only triggers dropped: " + "; ".join(kinds)
            ),
            before=before,
            after=after,
            observed=(
                f"`duyet audit verify` exits 1 naming the first broken seq for all {len(kinds)}; "
                f"without --expect-head, {len(unseen_without_head)} pass unseen ("
                + ", ".join(unseen_without_head)
                + ")"
            ),
            extra=found,
        )
    )
