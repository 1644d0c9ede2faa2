"""`duyet keys init` and `duyet verify FILE.pdf`: development signing keys, checking signed PDFs."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from definitions.loader import DefinitionError, load_plan, load_units
from definitions.units import Organisation
from duyet.console import fail
from duyet.records_bridge import records_transaction
from duyet.settings import Settings, get_settings
from publishing.keys import KeysExistError, fingerprint, init_keys
from publishing.signing import verify_pdf

# To move into duyet.messages as KEYS_CLI.
_TEXT: dict[str, str] = {
    "help": "Khóa ký số thử nghiệm của cơ quan (không dùng cho văn bản thật).",
    "init.help": (
        "Tạo tổ chức cấp chứng thư (CA) thử nghiệm và chứng thư ký số của cơ quan. "
        "Tạo lại (--force) thì các tệp đã ký bằng khóa cũ không còn được tin cậy."
    ),
    "dir.help": "Thư mục khóa (mặc định: var/keys/<mã cơ quan>)",
    "force.help": "Ghi đè khóa đã có",
    "plan.help": "Khóa của cơ quan ban hành kế hoạch này (mặc định: cơ quan trong units.yaml)",
    "passphrase.help": "Mã hóa khóa bí mật bằng mật khẩu (được hỏi hai lần)",
    "file.help": "Tệp PDF cần kiểm tra",
    "keys.help": "Thư mục chứa ca.pem, chứng thư gốc được tin cậy (mặc định: var/keys/<mã>)",
    "passphrase": "Mật khẩu khóa bí mật",
    "passphrase-again": "Nhập lại mật khẩu",
    "mismatch": "Hai lần nhập mật khẩu không khớp.",
    "exists": (
        "Thư mục {directory} đã có khóa ({files}): không ghi đè. "
        "Dùng --force để tạo lại (tệp đã ký bằng khóa cũ sẽ không còn được tin cậy)."
    ),
    "created": "Đã tạo khóa ký số thử nghiệm cho «{organisation}» tại {directory}:",
    "ca": "  Chứng thư gốc (CA):      {path}\n    SHA-256: {fingerprint}",
    "signer": "  Chứng thư ký số:         {path}\n    SHA-256: {fingerprint}",
    "private": "  Khóa bí mật (chỉ người tạo đọc được, không đưa vào git): {ca_key}, {signer_key}",
    "dev-only": "Khóa này chỉ để thử nghiệm: văn bản thật phải ký bằng chứng thư số được cấp phép.",
    "no-file": "Không tìm thấy tệp {path}.",
    "no-ca": "Không tìm thấy chứng thư gốc {path}: chạy «duyet keys init» hoặc chỉ --keys.",
    "file": "Tệp: {path}",
    "sha256": "SHA-256: {sha256}",
    "signer-name": "Người ký: {signer}",
    "signed-at": "Thời điểm ký (do người ký ghi, không có dấu thời gian): {at}",
    "intact": "Chữ ký toàn vẹn: {answer}",
    "trusted": "Chứng thư được tin cậy: {answer}",
    "whole-file": "Chữ ký bao trùm toàn bộ tệp: {answer}",
    "yes": "có",
    "no": "không",
    "record": "Sổ văn bản đi: số {number:02d}/{symbol} ngày {issued_on} — {title}",
    "no-record": (
        "Sổ văn bản đi: không tìm thấy trong sổ (không văn bản đã ban hành nào có mã SHA-256 này)"
    ),
    "valid": "Kết luận: HỢP LỆ",
    "invalid": "Kết luận: KHÔNG HỢP LỆ",
}

keys_app = typer.Typer(help=_TEXT["help"], no_args_is_help=True)
_SILENT = logging.NullHandler()


@dataclass(frozen=True)
class PublishedInfo:
    """What the register says about a published file."""

    number: int
    symbol: str
    issued_on: dt.date
    title: str


def lookup_published(sha256: str, *, settings: Settings) -> PublishedInfo | None:
    """The published document whose signed PDF has this SHA-256, if the register has one."""
    # Imported here: `duyet keys init` never touches the records database.
    from records.publications import published_by_sha256

    with records_transaction(settings) as session:
        document = published_by_sha256(session, sha256=sha256)
        if document is None:
            return None
        return PublishedInfo(
            number=document.number,
            symbol=document.symbol,
            issued_on=document.issued_on,
            title=document.title,
        )


def default_key_directory(settings: Settings, code: str) -> Path:
    """`var/keys/<organisation code>` (or under DUYET_SIGNING_KEYS_DIR): never committed."""
    return settings.keys_dir(code)


@keys_app.command("init", help=_TEXT["init.help"])
def init(
    directory: Annotated[Path | None, typer.Option("--dir", help=_TEXT["dir.help"])] = None,
    force: Annotated[bool, typer.Option("--force", help=_TEXT["force.help"])] = False,
    passphrase: Annotated[
        bool, typer.Option("--passphrase", help=_TEXT["passphrase.help"])
    ] = False,
    plan_id: Annotated[str | None, typer.Option("--plan", help=_TEXT["plan.help"])] = None,
) -> None:
    settings = get_settings()
    organisation = _organisation(settings, plan_id)
    target = directory or default_key_directory(settings, organisation.code)
    try:
        paths = init_keys(
            target,
            organisation=organisation.name,
            code=organisation.code,
            force=force,
            passphrase=_ask_passphrase() if passphrase else None,
        )
    except KeysExistError as exc:
        files = ", ".join(p.name for p in exc.paths)
        raise fail(_TEXT["exists"].format(directory=target, files=files)) from exc
    typer.echo(_TEXT["created"].format(organisation=organisation.name, directory=paths.directory))
    typer.echo(_TEXT["ca"].format(path=paths.ca_cert, fingerprint=fingerprint(paths.ca_cert)))
    typer.echo(
        _TEXT["signer"].format(path=paths.signer_cert, fingerprint=fingerprint(paths.signer_cert))
    )
    typer.echo(_TEXT["private"].format(ca_key=paths.ca_key, signer_key=paths.signer_key))
    typer.echo(_TEXT["dev-only"])


def verify_command(
    file: Annotated[Path, typer.Argument(metavar="FILE.pdf", help=_TEXT["file.help"])],
    keys: Annotated[Path | None, typer.Option("--keys", "--dir", help=_TEXT["keys.help"])] = None,
) -> None:
    """Kiểm tra chữ ký số của tệp PDF đã ban hành, đối chiếu sổ văn bản đi; hợp lệ: mã thoát 0."""
    settings = get_settings()
    default = default_key_directory(settings, _organisation(settings).code)
    if not file.is_file():
        raise fail(_TEXT["no-file"].format(path=file))
    # Without --keys, every issuing body's CA here is a trust root (the Sở's, UBND tỉnh's…).
    roots = [keys / "ca.pem"] if keys else sorted(default.parent.glob("*/ca.pem"))
    roots = [root for root in roots if root.is_file()]
    if not roots:
        raise fail(_TEXT["no-ca"].format(path=(keys or default) / "ca.pem"))
    # pyHanko logs why a check failed, traceback included; the report below says it in words.
    for name in ("pyhanko", "pyhanko_certvalidator"):
        logging.getLogger(name).addHandler(_SILENT)
    verification = verify_pdf(file.read_bytes(), trust_roots=list(roots))

    zone = ZoneInfo(settings.timezone)
    typer.echo(_TEXT["file"].format(path=file))
    typer.echo(_TEXT["sha256"].format(sha256=verification.sha256))
    if verification.signer is not None:
        typer.echo(_TEXT["signer-name"].format(signer=verification.signer))
    if verification.signed_at is not None:
        at = verification.signed_at.astimezone(zone).strftime("%d/%m/%Y %H:%M:%S")
        typer.echo(_TEXT["signed-at"].format(at=at))
    typer.echo(_TEXT["intact"].format(answer=_yes_no(verification.intact)))
    typer.echo(_TEXT["trusted"].format(answer=_yes_no(verification.trusted)))
    typer.echo(_TEXT["whole-file"].format(answer=_yes_no(verification.covers_whole_file)))
    for problem in verification.problems:
        typer.echo(f"- {problem}")

    # After the signature report, so that it is shown even if the database is unreachable.
    record = lookup_published(verification.sha256, settings=settings)
    if record is None:
        typer.echo(_TEXT["no-record"])
    else:
        typer.echo(
            _TEXT["record"].format(
                number=record.number,
                symbol=record.symbol,
                issued_on=record.issued_on.strftime("%d/%m/%Y"),
                title=record.title,
            )
        )
    valid = verification.ok and record is not None
    typer.echo(_TEXT["valid" if valid else "invalid"])
    if not valid:
        raise typer.Exit(1)


def _organisation(settings: Settings, plan_id: str | None = None) -> Organisation:
    """The organisation of units.yaml, or of the unit directory the plan names."""
    try:
        if plan_id is None:
            return load_units(settings.units_path).organisation
        plan = load_plan(settings.plans_dir / f"{plan_id}.yaml")
        return load_units(settings.definitions_dir / plan.units).organisation
    except DefinitionError as exc:
        raise fail(str(exc)) from exc


def _ask_passphrase() -> str:
    first = str(typer.prompt(_TEXT["passphrase"], hide_input=True))
    if typer.prompt(_TEXT["passphrase-again"], hide_input=True) != first:
        raise fail(_TEXT["mismatch"])
    return first


def _yes_no(answer: bool) -> str:
    return _TEXT["yes"] if answer else _TEXT["no"]
