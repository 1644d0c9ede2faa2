"""Signing in: argon2 passwords, signed session cookies, CSRF, roles, the login rate limit."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from duyet.settings import Settings
from portal.app import create_app
from portal.passwords import hash_password, verify_password
from portal.security import MAX_FAILURES
from records.engine import session_scope
from records.users import set_disabled
from tests.portal.asgi import app_client
from tests.portal.factories import PASSWORD, add_account, csrf_in, sign_in

PAGES = ["/office", "/audit", "/audit/lines/1.1", "/audit/export?format=csv"]


def test_passwords_are_argon2id_hashes() -> None:
    hashed = hash_password("một mật khẩu dài")
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "một mật khẩu dài")
    assert not verify_password(hashed, "một mật khẩu khác")
    assert not verify_password(None, "một mật khẩu dài")  # unknown account
    assert not verify_password("not-a-hash", "x")


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_readers_are_sent_to_the_login_page(client: httpx.Client, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=%2F")


@pytest.mark.parametrize("path", ["/office/start", "/office/resend", "/office/cancel", "/logout"])
def test_anonymous_forms_are_refused(client: httpx.Client, path: str) -> None:
    assert client.post(path, data={"csrf": "x"}).status_code == 401


def test_login_needs_its_csrf_token(settings: Settings, app: FastAPI, client: httpx.Client) -> None:
    add_account(settings, "vanphong", "office")
    client.get("/login")
    form = {"username": "vanphong", "password": PASSWORD}
    assert client.post("/login", data=form).status_code == 403
    assert client.post("/login", data=form | {"csrf": "forged"}).status_code == 403
    with app_client(app) as stranger:
        other = csrf_in(stranger.get("/login"))  # valid, but bound to another browser
    assert client.post("/login", data=form | {"csrf": other}).status_code == 403


def test_a_session_cookie_is_signed_httponly_strict_and_renewed_at_login(
    settings: Settings, client: httpx.Client
) -> None:
    add_account(settings, "vanphong", "office")
    first = client.get("/login")
    cookie = first.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    before = client.cookies["duyet_session"]
    answer = sign_in(client, "vanphong")
    assert answer.status_code == 303 and answer.headers["location"] == "/office"
    assert client.cookies["duyet_session"] != before  # no session fixation
    board = client.get("/office")
    assert board.status_code == 200 and "Nguyễn Văn Vanphong" in board.text
    client.cookies.set("duyet_session", client.cookies["duyet_session"][:-2] + "xx")
    assert client.get("/office").status_code == 303  # a tampered cookie is no session


def test_cookies_are_secure_when_the_portal_is_on_https(settings: Settings) -> None:
    secure = settings.model_copy(update={"public_base_url": "https://duyet.svhttdl.example"})
    with app_client(create_app(secure)) as client:
        assert "Secure" in client.get("/login").headers["set-cookie"]


def test_wrong_password_is_401_and_names_no_reason(
    settings: Settings, client: httpx.Client
) -> None:
    add_account(settings, "vanphong", "office")
    for username, password in (("vanphong", "sai-mat-khau-roi"), ("khong-co-ai", PASSWORD)):
        answer = sign_in(client, username, password)
        assert answer.status_code == 401
        assert "Tên đăng nhập hoặc mật khẩu không đúng." in answer.text


def test_roles_open_their_own_pages_only(settings: Settings, app: FastAPI) -> None:
    for name, role in (("vp", "office"), ("kt", "auditor"), ("qt", "admin")):
        add_account(settings, name, role)
    expected = {
        "vp": {"/office": 200, "/audit": 403},
        "kt": {"/office": 403, "/audit": 200},
        "qt": {"/office": 200, "/audit": 200},
    }
    for name, pages in expected.items():
        with app_client(app) as client:
            assert sign_in(client, name).status_code == 303
            for path, status in pages.items():
                assert client.get(path).status_code == status, (name, path)


def test_auditors_land_on_their_page_and_next_stays_on_this_site(
    settings: Settings, client: httpx.Client
) -> None:
    add_account(settings, "kiemtoan", "auditor")
    form = client.get("/login?next=//evil.example/x")
    data = {"csrf": csrf_in(form), "username": "kiemtoan", "password": PASSWORD}
    answer = client.post("/login", data=data | {"next": "//evil.example/x"})
    assert answer.headers["location"] == "/audit"
    data["csrf"] = csrf_in(client.get("/login"))
    answer = client.post("/login", data=data | {"next": "/audit/lines/1.1"})
    assert answer.headers["location"] == "/audit/lines/1.1"


def test_a_disabled_account_is_locked_out_at_once(settings: Settings, client: httpx.Client) -> None:
    add_account(settings, "vanphong", "office")
    assert sign_in(client, "vanphong").status_code == 303
    with session_scope(settings.database_url) as session:
        set_disabled(session, username="vanphong", disabled=True, actor="test")
    assert client.get("/office").status_code == 303
    assert sign_in(client, "vanphong").status_code == 401


def test_logins_are_rate_limited_per_address_and_user(settings: Settings, app: FastAPI) -> None:
    add_account(settings, "vanphong", "office")
    with app_client(app, client_ip="10.9.9.9") as attacker:
        for _ in range(MAX_FAILURES):
            assert sign_in(attacker, "vanphong", "doan-mo-mat-khau").status_code == 401
        blocked = sign_in(attacker, "vanphong")  # even the right password, for a while
        assert blocked.status_code == 429 and blocked.headers["retry-after"] == "900"
        assert "quá nhiều lần" in blocked.text
    with app_client(app, client_ip="10.1.1.1") as colleague:
        assert sign_in(colleague, "vanphong").status_code == 303


def test_logout_needs_csrf_and_ends_the_session(settings: Settings, client: httpx.Client) -> None:
    add_account(settings, "vanphong", "office")
    sign_in(client, "vanphong")
    board = client.get("/office")
    assert client.post("/logout", data={}).status_code == 403
    answer = client.post("/logout", data={"csrf": csrf_in(board)})
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    assert client.get("/office").status_code == 303


def test_office_forms_need_the_session_csrf_token(
    settings: Settings, app: FastAPI, client: httpx.Client
) -> None:
    add_account(settings, "vanphong", "office")
    add_account(settings, "vp2", "office")
    with app_client(app) as other:
        sign_in(other, "vp2")
        foreign = csrf_in(other.get("/office"))
    sign_in(client, "vanphong")
    for form in ({}, {"csrf": ""}, {"csrf": "x"}, {"csrf": foreign}):
        for path in ("/office/start", "/office/resend", "/office/cancel"):
            answer = client.post(path, data=form | {"scope": "line", "code": "1.1"})
            assert answer.status_code == 403, (path, form)
