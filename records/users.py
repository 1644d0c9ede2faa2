"""Portal accounts and login attempts. Passwords arrive hashed (argon2); the caller owns the
transaction. Adding, disabling and re-enabling an account is written to the audit chain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from records import audit
from records.errors import RecordError
from records.models import ROLES, LoginAttempt, User

USERNAME_CHARS = 64


class UserExists(RecordError):
    code = "user-exists"


class UserUnknown(RecordError):
    code = "user-unknown"


class RoleUnknown(RecordError):
    code = "role-unknown"


def normal_username(username: str) -> str:
    """How a username is stored and compared: trimmed, lower-case, at most 64 characters."""
    return username.strip().lower()[:USERNAME_CHARS]


def add_user(
    session: Session,
    *,
    username: str,
    display_name: str,
    role: str,
    password_hash: str,
    actor: str,
    now: datetime | None = None,
) -> User:
    """Create an enabled account; `UserExists` if the name is taken."""
    if role not in ROLES:
        raise RoleUnknown(role=role, roles=", ".join(ROLES))
    audit.lock(session)
    name = normal_username(username)
    if find_user(session, username=name) is not None:
        raise UserExists(username=name)
    moment = now or audit.utcnow()
    user = User(
        username=name,
        display_name=display_name.strip() or name,
        role=role,
        password_hash=password_hash,
        disabled=False,
        created_at=moment,
    )
    session.add(user)
    session.flush()
    _audit(session, user, actor=actor, action="user.added", at=moment)
    return user


def find_user(session: Session, *, username: str) -> User | None:
    """The account with this username (compared normalised), if any."""
    query = select(User).where(User.username == normal_username(username))
    return session.scalars(query).first()


def get_user(session: Session, *, user_id: int) -> User | None:
    return session.get(User, user_id)


def list_users(session: Session) -> list[User]:
    """Every account, by username."""
    return list(session.scalars(select(User).order_by(User.username)))


def set_disabled(
    session: Session, *, username: str, disabled: bool, actor: str, now: datetime | None = None
) -> User:
    """Disable (or enable again) an account; a no-op, unaudited, if it already is."""
    audit.lock(session)
    user = find_user(session, username=username)
    if user is None:
        raise UserUnknown(username=normal_username(username))
    if user.disabled != disabled:
        user.disabled = disabled
        session.flush()
        action = "user.disabled" if disabled else "user.enabled"
        _audit(session, user, actor=actor, action=action, at=now)
    return user


def set_password_hash(session: Session, *, user_id: int, password_hash: str) -> None:
    """Store a stronger hash of the same password (argon2 parameters raised): not audited."""
    user = session.get(User, user_id)
    if user is not None:
        user.password_hash = password_hash


def record_login_attempt(
    session: Session, *, username: str, client_ip: str, succeeded: bool, now: datetime
) -> None:
    session.add(
        LoginAttempt(
            username=normal_username(username),
            client_ip=client_ip[:45],
            at=now,
            succeeded=succeeded,
        )
    )


def failed_logins(
    session: Session, *, since: datetime, client_ip: str, username: str | None = None
) -> int:
    """Failed attempts since `since` from `client_ip`; for `username` only, if given, and then
    not counting those before the last success of the same pair. An address's own count is not
    reset by a success: signing in to one's own account must not buy more guesses at others'."""
    where = [LoginAttempt.client_ip == client_ip[:45], LoginAttempt.at >= since]
    failed = select(func.count()).where(*where, LoginAttempt.succeeded.is_(False))
    if username is not None:
        pair = LoginAttempt.username == normal_username(username)
        last_success = session.scalar(
            select(func.max(LoginAttempt.at)).where(*where, pair, LoginAttempt.succeeded.is_(True))
        )
        failed = failed.where(pair)
        if last_success is not None:
            failed = failed.where(LoginAttempt.at > last_success)
    return int(session.scalar(failed) or 0)


def _audit(session: Session, user: User, *, actor: str, action: str, at: datetime | None) -> None:
    audit.append(
        session,
        actor=actor,
        action=action,
        subject=f"user:{user.username}",
        payload={"username": user.username, "display_name": user.display_name, "role": user.role},
        at=at,
    )
