"""Signing published PDFs (PAdES) and verifying them: real keys, real PDFs, pyHanko's validator."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil
import stat
import warnings
from io import BytesIO
from pathlib import Path

import pytest
import typer
from cryptography import x509
from cryptography.x509.oid import NameOID
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.generic import NameObject, pdf_string
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from typer.testing import CliRunner

from duyet.cli_keys import keys_app, verify_command
from duyet.settings import PROJECT_ROOT
from publishing.keys import (
    DOCUMENT_SIGNING,
    KeysExistError,
    KeysUnreadableError,
    fingerprint,
    init_keys,
)
from publishing.signing import PROBLEMS, sign_pdf, verify_pdf
from tests.factories import OTHER_PLAN, OTHER_UNITS
from tests.publishing.test_render import flat

ORGANISATION = "Sở Văn hóa, Thể thao và Du lịch tỉnh Bình Dương"
SIGNED_AT = dt.datetime(2025, 6, 2, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=7)))


@pytest.fixture(scope="module")
def plan_pdf() -> bytes:
    with warnings.catch_warnings():
        # Debian 12's HarfBuzz has no subsetting library; WeasyPrint says so when imported.
        warnings.filterwarnings("ignore", "HarfBuzz-Subset", DeprecationWarning)
        from weasyprint import HTML
    return HTML(string="<p>Kế hoạch</p>").write_pdf()


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("keys") / "SVHTTDL"
    init_keys(directory, organisation=ORGANISATION, code="SVHTTDL")
    return directory


@pytest.fixture(scope="module")
def signed(plan_pdf: bytes, keys: Path) -> bytes:
    return sign_pdf(
        plan_pdf, keys=keys, reason="Ban hành văn bản", location="Bình Dương", signed_at=SIGNED_AT
    )


def signed_ranges(pdf: bytes) -> tuple[range, range]:
    match = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", pdf)
    assert match is not None
    start, length, second, second_length = map(int, match.groups())
    return range(start, start + length), range(second, second + second_length)


def test_a_signed_pdf_verifies(signed: bytes, keys: Path) -> None:
    verification = verify_pdf(signed, trust_roots=[keys / "ca.pem"])
    assert verification.problems == []
    assert verification.intact and verification.trusted and verification.covers_whole_file
    assert verification.ok
    assert verification.signer == ORGANISATION
    assert verification.signed_at == SIGNED_AT
    assert verification.sha256 == hashlib.sha256(signed).hexdigest()


def test_trust_roots_may_be_given_as_bytes(signed: bytes, keys: Path) -> None:
    assert verify_pdf(signed, trust_roots=[(keys / "ca.pem").read_bytes()]).ok


def test_pyhanko_accepts_the_signature_as_pades(signed: bytes, keys: Path) -> None:
    signature = PdfFileReader(BytesIO(signed)).embedded_signatures[0]
    context = ValidationContext(
        trust_roots=[load_cert_from_pemder(keys / "ca.pem")], allow_fetching=False
    )
    status = validate_pdf_signature(signature, context)
    assert status.bottom_line
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert signature.field_name == "KySo"
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert signature.sig_object["/Reason"] == "Ban hành văn bản"
    assert signature.sig_object["/Location"] == "Bình Dương"


def test_the_original_pdf_is_left_untouched(plan_pdf: bytes, signed: bytes) -> None:
    assert signed.startswith(plan_pdf)  # an incremental update


def test_a_flipped_byte_in_the_signed_content_is_detected(signed: bytes, keys: Path) -> None:
    offset = signed.index(b"WeasyPrint")  # /Producer, in the signed revision
    assert offset in signed_ranges(signed)[0]
    tampered = bytearray(signed)
    tampered[offset] = ord("V")
    verification = verify_pdf(bytes(tampered), trust_roots=[keys / "ca.pem"])
    assert not verification.intact
    assert not verification.ok
    assert verification.problems == [PROBLEMS["altered"]]


def test_no_flipped_byte_in_the_signed_ranges_verifies(signed: bytes, keys: Path) -> None:
    first, second = signed_ranges(signed)
    offsets = [*first[::97], *second[::13]]
    for offset in offsets:
        tampered = bytearray(signed)
        tampered[offset] ^= 0x04
        verification = verify_pdf(bytes(tampered), trust_roots=[keys / "ca.pem"])
        assert not verification.ok, offset
        assert verification.problems, offset


def test_an_unsigned_update_after_signing_is_not_covered(signed: bytes, keys: Path) -> None:
    writer = IncrementalPdfFileWriter(BytesIO(signed))
    writer.root[NameObject("/Lang")] = pdf_string("vi")
    writer.update_root()
    output = BytesIO()
    writer.write(output)
    verification = verify_pdf(output.getvalue(), trust_roots=[keys / "ca.pem"])
    assert verification.intact  # the signed revision itself is untouched
    assert not verification.covers_whole_file
    assert not verification.ok
    assert PROBLEMS["appended"] in verification.problems


def test_bytes_appended_after_signing_are_not_covered(signed: bytes, keys: Path) -> None:
    verification = verify_pdf(signed + b"\n% them vao sau khi ky\n", trust_roots=[keys / "ca.pem"])
    assert not verification.covers_whole_file
    assert verification.problems == [PROBLEMS["appended"]]


def test_a_pdf_signed_under_another_ca_is_not_trusted(
    plan_pdf: bytes, keys: Path, tmp_path: Path
) -> None:
    other = init_keys(tmp_path / "other", organisation=ORGANISATION, code="SVHTTDL").directory
    pdf = sign_pdf(plan_pdf, keys=other, reason="Ban hành", location="Bình Dương")
    verification = verify_pdf(pdf, trust_roots=[keys / "ca.pem"])
    assert verification.intact
    assert not verification.trusted
    assert verification.problems == [PROBLEMS["untrusted"]]
    assert verify_pdf(pdf, trust_roots=[other / "ca.pem"]).ok


def test_an_unsigned_pdf_has_no_signature(plan_pdf: bytes, keys: Path) -> None:
    verification = verify_pdf(plan_pdf, trust_roots=[keys / "ca.pem"])
    assert verification.problems == [PROBLEMS["unsigned"]]
    assert not verification.intact and verification.signer is None


@pytest.mark.parametrize("damage", ["not-a-pdf", "truncated", "empty"])
def test_a_damaged_file_is_reported_not_raised(signed: bytes, keys: Path, damage: str) -> None:
    data = {"not-a-pdf": b"Ke hoach.docx", "truncated": signed[: len(signed) // 2], "empty": b""}
    verification = verify_pdf(data[damage], trust_roots=[keys / "ca.pem"])
    assert not verification.ok
    assert verification.problems[0].startswith("Tệp PDF bị hỏng")


def test_signing_needs_an_aware_time(plan_pdf: bytes, keys: Path) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        sign_pdf(plan_pdf, keys=keys, reason="", location="", signed_at=dt.datetime(2025, 1, 1))


def test_init_refuses_to_overwrite_unless_forced(tmp_path: Path) -> None:
    paths = init_keys(tmp_path / "k", organisation=ORGANISATION, code="SVHTTDL")
    before = {p: p.read_bytes() for p in paths.files}
    with pytest.raises(KeysExistError) as refused:
        init_keys(tmp_path / "k", organisation=ORGANISATION, code="SVHTTDL")
    assert set(refused.value.paths) == set(paths.files)
    assert {p: p.read_bytes() for p in paths.files} == before
    old_ca = fingerprint(paths.ca_cert)
    init_keys(tmp_path / "k", organisation=ORGANISATION, code="SVHTTDL", force=True)
    assert fingerprint(paths.ca_cert) != old_ca
    assert not [p for p in paths.directory.iterdir() if p.name.startswith(".")]  # no temp left


def test_private_keys_are_readable_by_their_owner_only(keys: Path) -> None:
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    for name in ("ca.key.pem", "signer.key.pem"):
        assert stat.S_IMODE((keys / name).stat().st_mode) == 0o600


def test_the_certificates_say_who_signs_and_for_what(keys: Path) -> None:
    ca = x509.load_pem_x509_certificate((keys / "ca.pem").read_bytes())
    signer = x509.load_pem_x509_certificate((keys / "signer.pem").read_bytes())
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert ca.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    assert "SVHTTDL" in ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert signer.issuer == ca.subject
    assert signer.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == ORGANISATION
    assert signer.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == ORGANISATION
    assert signer.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "VN"
    usage = signer.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    purposes = signer.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(purposes) == [DOCUMENT_SIGNING]
    lifetime = signer.not_valid_after_utc - signer.not_valid_before_utc
    assert lifetime.days == 365 * 3
    assert (ca.not_valid_after_utc - ca.not_valid_before_utc).days == 365 * 10


def test_a_passphrase_protects_the_keys(plan_pdf: bytes, tmp_path: Path) -> None:
    directory = init_keys(
        tmp_path / "k", organisation=ORGANISATION, code="SVHTTDL", passphrase="mật khẩu dài"
    ).directory
    assert b"ENCRYPTED PRIVATE KEY" in (directory / "signer.key.pem").read_bytes()
    with pytest.raises(KeysUnreadableError):
        sign_pdf(plan_pdf, keys=directory, reason="", location="")
    pdf = sign_pdf(plan_pdf, keys=directory, reason="", location="", passphrase="mật khẩu dài")
    assert verify_pdf(pdf, trust_roots=[directory / "ca.pem"]).ok


# The CLI: `duyet keys init` and `duyet verify` (registered in duyet.cli by its owner).
cli = typer.Typer()
cli.add_typer(keys_app, name="keys")
cli.command("verify")(verify_command)
runner = CliRunner()


def test_cli_init_then_verify_a_tampered_file(
    isolated_env: Path, plan_pdf: bytes, tmp_path: Path
) -> None:
    created = runner.invoke(cli, ["keys", "init"])
    assert created.exit_code == 0, created.output
    directory = isolated_env / "var" / "keys" / "SVHTTDL"
    assert "SHA-256: " + fingerprint(directory / "ca.pem") in created.output
    assert "SHA-256: " + fingerprint(directory / "signer.pem") in created.output

    again = runner.invoke(cli, ["keys", "init"])
    assert again.exit_code == 2
    assert "không ghi đè" in flat(again.output)  # wrapped where the folder's path ends

    signed = sign_pdf(plan_pdf, keys=directory, reason="Ban hành", location="Bình Dương")
    tampered = signed.replace(b"WeasyPrint", b"VeasyPrint", 1)
    path = tmp_path / "ke-hoach.pdf"
    path.write_bytes(tampered)
    result = runner.invoke(cli, ["verify", str(path)])
    assert result.exit_code == 1, result.output
    said = flat(result.output)
    assert PROBLEMS["altered"] in said
    assert "không tìm thấy trong sổ" in said
    assert "KHÔNG HỢP LỆ" in said


def test_cli_init_for_another_departments_plan(isolated_env: Path) -> None:
    definitions = isolated_env / "definitions"
    shutil.copy(PROJECT_ROOT / "definitions" / OTHER_UNITS, definitions / OTHER_UNITS)
    shutil.copy(
        PROJECT_ROOT / "definitions" / "plans" / f"{OTHER_PLAN}.yaml", definitions / "plans"
    )
    created = runner.invoke(cli, ["keys", "init", "--plan", OTHER_PLAN])
    assert created.exit_code == 0, created.output
    assert "Sở Tư pháp tỉnh Bình Dương" in created.output
    assert (isolated_env / "var" / "keys" / "STP" / "signer.pem").is_file()


def test_cli_verify_of_a_good_file_not_in_the_register_fails(
    isolated_env: Path, plan_pdf: bytes, tmp_path: Path
) -> None:
    directory = tmp_path / "keys"
    init_keys(directory, organisation=ORGANISATION, code="SVHTTDL")
    path = tmp_path / "ke-hoach.pdf"
    path.write_bytes(sign_pdf(plan_pdf, keys=directory, reason="Ban hành", location="Bình Dương"))
    result = runner.invoke(cli, ["verify", str(path), "--keys", str(directory)])
    assert result.exit_code == 1, result.output
    assert f"Người ký: {ORGANISATION}" in result.output
    assert "Chữ ký toàn vẹn: có" in result.output
    assert "không tìm thấy trong sổ" in result.output


def test_cli_verify_of_a_published_file_passes(
    isolated_env: Path, plan_pdf: bytes, tmp_path: Path
) -> None:
    from duyet.records_bridge import records_transaction
    from duyet.settings import get_settings
    from records.numbering import next_number
    from records.publications import record_publication

    assert runner.invoke(cli, ["keys", "init"]).exit_code == 0
    directory = isolated_env / "var" / "keys" / "SVHTTDL"
    pdf = sign_pdf(plan_pdf, keys=directory, reason="Ban hành", location="Bình Dương")
    issued_at = dt.datetime(2025, 6, 2, 2, 30, tzinfo=dt.UTC)
    with records_transaction(get_settings()) as session:
        number = next_number(
            session, issuer_code="SVHTTDL", year=2025, type_key="KH", now=issued_at
        )
        record_publication(
            session,
            cycle_id=None,
            plan_key="ke-hoach-cchc-2025",
            line_code=None,
            issuer_code="SVHTTDL",
            type_name="Kế hoạch",
            type_code="KH",
            unit_code=None,
            title="Kế hoạch cải cách hành chính năm 2025",
            issued_at=issued_at,
            issued_on=issued_at.date(),
            signer_name="Nguyễn Khoa Hải",
            pdf=pdf,
            html="<p>Kế hoạch</p>",
            source_sha256=None,
            filename="01-KH.pdf",
            number=number,
            actor="test",
        )
    path = tmp_path / "01-KH.pdf"
    path.write_bytes(pdf)
    result = runner.invoke(cli, ["verify", str(path)])
    assert result.exit_code == 0, result.output
    assert "số 01/KH-SVHTTDL ngày 02/06/2025" in result.output
    assert "Kết luận: HỢP LỆ" in result.output
