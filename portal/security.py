"""Signed session cookies, CSRF tokens and the login rate limit.

Session: a cookie holding `{sid, uid}` signed (and timestamped) with a key derived from
`DUYET_SECRET_KEY`; HttpOnly, SameSite=Strict, Secure when the public URL is https, valid
`SESSION_MAX_AGE`. The account is re-read on every request, so disabling it ends its sessions.
A new `sid` is issued at login (no session fixation) and the cookie is dropped at logout.

CSRF: a form carries a signed, timestamped token of what it is bound to — the session's `sid`
for logged-in and login forms, the sha256 of the link token for reviewers' forms (reviewers
have no session: the link is the credential). Another site can neither read nor forge it.

Origin: a browser says where a state-changing request comes from. One sent from another site's
page (`Sec-Fetch-Site` other than same-origin, or an `Origin` that is not the public base URL's)
is refused (403) whatever CSRF token it carries. `Origin: null` tells nothing: it is what
browsers send with the portal's own forms, whose pages set `Referrer-Policy: no-referrer`.

Rate limit: failed logins are stored (`login_attempts`), so every portal process sees the same
count: at most `MAX_FAILURES` per address and username, `MAX_FAILURES_PER_IP` per address, in
`WINDOW`; a success resets the pair's count.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy.orm import Session
from starlette.responses import Response

from records.users import failed_logins

SESSION_COOKIE = "duyet_session"
SESSION_MAX_AGE = 8 * 3600  # one working day
CSRF_MAX_AGE = SESSION_MAX_AGE
LINK_FORM_MAX_AGE = 14 * 24 * 3600  # a reviewer may leave the page open for days
WINDOW = timedelta(minutes=15)
MAX_FAILURES = 5
MAX_FAILURES_PER_IP = 20
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
OWN_SITE = frozenset({"same-origin", "none"})  # `none`: the person typed or bookmarked it


@dataclass(frozen=True)
class SessionData:
    sid: str
    user_id: int | None = None


def new_session(user_id: int | None = None) -> SessionData:
    return SessionData(sid=secrets.token_urlsafe(24), user_id=user_id)


class Keys:
    """Signing for one portal: sessions, CSRF tokens and notices, each with its own salt."""

    def __init__(self, secret: bytes, *, secure_cookies: bool) -> None:
        self._session = URLSafeTimedSerializer(secret, salt="duyet/portal/session")
        self._csrf = URLSafeTimedSerializer(secret, salt="duyet/portal/csrf")
        self._notice = URLSafeSerializer(secret, salt="duyet/portal/notice")
        self.secure_cookies = secure_cookies

    def load_session(self, cookie: str | None) -> SessionData | None:
        if not cookie:
            return None
        try:
            data = self._session.loads(cookie, max_age=SESSION_MAX_AGE)
        except BadSignature:  # also SignatureExpired
            return None
        if not isinstance(data, dict) or not isinstance(data.get("sid"), str):
            return None
        uid = data.get("uid")
        return SessionData(sid=data["sid"], user_id=uid if isinstance(uid, int) else None)

    def set_session(self, response: Response, session: SessionData) -> None:
        value = self._session.dumps({"sid": session.sid, "uid": session.user_id})
        response.set_cookie(
            SESSION_COOKIE,
            value,
            max_age=SESSION_MAX_AGE,
            path="/",
            secure=self.secure_cookies,
            httponly=True,
            samesite="strict",
        )

    def clear_session(self, response: Response) -> None:
        response.delete_cookie(
            SESSION_COOKIE, path="/", secure=self.secure_cookies, httponly=True, samesite="strict"
        )

    def csrf_token(self, binding: str) -> str:
        return str(self._csrf.dumps(binding))

    def csrf_ok(self, token: str, binding: str, *, max_age: int = CSRF_MAX_AGE) -> bool:
        if not token:
            return False
        try:
            found = self._csrf.loads(token, max_age=max_age)
        except BadSignature:
            return False
        return isinstance(found, str) and secrets.compare_digest(found, binding)

    def sign_notice(self, text: str) -> str:
        """A message to show after a redirect, signed so that no one can forge one in a link."""
        return str(self._notice.dumps(text))

    def read_notice(self, signed: str | None) -> str | None:
        if not signed:
            return None
        try:
            text = self._notice.loads(signed)
        except BadSignature:
            return None
        return text if isinstance(text, str) else None


def session_binding(session: SessionData) -> str:
    return f"session:{session.sid}"


def link_binding(raw_token: str) -> str:
    return f"link:{hashlib.sha256(raw_token.encode()).hexdigest()}"


def login_blocked(session: Session, *, username: str, client_ip: str, now: datetime) -> bool:
    """Too many recent failures from this address (for this username, or at all)."""
    since = now - WINDOW
    pair = failed_logins(session, since=since, client_ip=client_ip, username=username)
    if pair >= MAX_FAILURES:
        return True
    return failed_logins(session, since=since, client_ip=client_ip) >= MAX_FAILURES_PER_IP


def origin_of(url: str) -> str:
    """`scheme://host[:port]` of `url`, spelled as browsers send it in `Origin`."""
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    port = f":{parts.port}" if parts.port is not None and parts.port != default else ""
    return f"{parts.scheme}://{parts.hostname}{port}".lower()


def cross_site(method: str, headers: Mapping[str, str], *, own_origin: str) -> bool:
    """Whether a browser sent this state-changing request from another site's page."""
    if method.upper() in SAFE_METHODS:
        return False
    site = headers.get("sec-fetch-site")
    if site is not None and site.lower() not in OWN_SITE:
        return True
    origin = headers.get("origin")
    return origin is not None and origin != "null" and origin.lower() != own_origin
