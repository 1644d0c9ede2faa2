"""Sổ đăng ký văn bản đi: numbers per issuer, year and type, from 01, without gap or duplicate.

The increment happens in the caller's transaction, so a rolled-back publication gives its number
back and the next one takes the same number.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from records import audit
from records.models import NumberRegister

CONG_VAN = "CV"  # a Công văn has no type abbreviation; it has its own register


def type_key_for(type_code: str | None) -> str:
    """The register a document type numbers in: its abbreviation (KH, BC, QĐ…), or CV."""
    return type_code or CONG_VAN


def symbol_of(*, issuer_code: str, type_code: str | None, unit_code: str | None) -> str:
    """`KH-SVHTTDL`, or `SVHTTDL-VP` for a Công văn (as `publishing.spec.DocumentSpec.symbol`)."""
    if type_code is None:
        return f"{issuer_code}-{unit_code}" if unit_code else issuer_code
    return f"{type_code}-{issuer_code}"


def next_number(
    session: Session, *, issuer_code: str, year: int, type_key: str, now: datetime
) -> int:
    """Take the next number of the register, in the caller's transaction."""
    # Publishing also appends to the audit chain: taking the chain's lock first keeps every
    # writer's lock order the same (chain, then register row), so none can deadlock.
    audit.lock(session)
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(
        insert(NumberRegister)
        .values(
            issuer_code=issuer_code, year=year, type_key=type_key, last_number=0, updated_at=now
        )
        .on_conflict_do_nothing()
    )
    # On PostgreSQL the UPDATE locks the row until commit, so concurrent callers queue on it.
    number = session.execute(
        update(NumberRegister)
        .where(
            NumberRegister.issuer_code == issuer_code,
            NumberRegister.year == year,
            NumberRegister.type_key == type_key,
        )
        .values(last_number=NumberRegister.last_number + 1, updated_at=now)
        .returning(NumberRegister.last_number)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    return number


def current_number(session: Session, *, issuer_code: str, year: int, type_key: str) -> int:
    """The last number given out by the register (0 before the first)."""
    last = session.scalar(
        select(NumberRegister.last_number).where(
            NumberRegister.issuer_code == issuer_code,
            NumberRegister.year == year,
            NumberRegister.type_key == type_key,
        )
    )
    return last or 0
