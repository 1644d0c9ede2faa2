"""Digital signature (ký số) of published PDFs: PAdES with pyHanko, and its verification."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from collections.abc import Sequence
from io import BytesIO
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from pydantic import BaseModel, ConfigDict
from pyhanko.keys import load_certs_from_pemder_data
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields
from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from publishing.keys import Passphrase, load_signer

# What a reader is told is wrong with a file, by code (candidates for duyet.messages).
PROBLEMS: dict[str, str] = {
    "damaged": "Tệp PDF bị hỏng hoặc không phải PDF: không đọc được chữ ký số",
    "unsigned": "Tệp không có chữ ký số",
    "signature-damaged": "Chữ ký số bị hỏng: không đọc được",
    "altered": "Chữ ký số không hợp lệ: nội dung đã bị thay đổi sau khi ký",
    "invalid": "Chữ ký số không hợp lệ: chữ ký không khớp với chứng thư của người ký",
    "untrusted": "Chứng thư của người ký không được tin cậy (không do tổ chức cấp chứng thư "
    "được chỉ định cấp, hoặc đã hết hạn)",
    "appended": "Tệp đã bị bổ sung nội dung sau khi ký: chữ ký không bao trùm toàn bộ tệp",
}


class Verification(BaseModel):
    """What a signed PDF proves: untouched since signing, by whom, and whether to trust it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    intact: bool  # the signed bytes are unchanged and the signature matches them
    trusted: bool  # the signer's certificate chains to one of the trust roots
    covers_whole_file: bool  # nothing was appended after signing
    signer: str | None  # subject common name of the signer's certificate
    signed_at: dt.datetime | None  # as claimed by the signer (no timestamp authority)
    sha256: str  # of the whole file, to look the file up in the register
    problems: list[str]

    @property
    def ok(self) -> bool:
        return self.intact and self.trusted and self.covers_whole_file and not self.problems


def sign_pdf(
    pdf: bytes,
    *,
    keys: Path,
    reason: str,
    location: str,
    field_name: str = "KySo",
    signed_at: dt.datetime | None = None,
    passphrase: Passphrase = None,
) -> bytes:
    """Sign `pdf` with the key in `keys`: PAdES B-B, invisible, as an incremental update.

    B-B only: B-T would need a timestamp authority (TSA), which is not reachable offline, so the
    signing time is the one the signer claims (`signed_at`, default now) and the signature can
    no longer be validated once the signer's certificate has expired. Runs its own event loop:
    call it from synchronous code.
    """
    if signed_at is not None and signed_at.utcoffset() is None:
        raise ValueError("signed_at must be timezone-aware")
    signer = load_signer(keys, passphrase=passphrase)
    metadata = PdfSignatureMetadata(
        field_name=field_name,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=reason,
        location=location,
        embed_validation_info=False,
    )
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    return asyncio.run(_sign(PdfSigner(metadata, signer), writer, signed_at))


async def _sign(
    pdf_signer: PdfSigner, writer: IncrementalPdfFileWriter, signed_at: dt.datetime | None
) -> bytes:
    # `PdfSigner.async_sign_pdf` step by step (pyHanko's documented interrupted-signing API),
    # only so that the signing time can be given: it goes into /M, and PAdES puts no
    # signing-time attribute in the CMS.
    session = pdf_signer.init_signing_session(writer)
    if signed_at is not None:
        session.system_time = signed_at
    validation_info = await session.perform_presign_validation(writer)
    reserved = await session.estimate_signature_container_size(validation_info)
    document = session.prepare_tbs_document(
        validation_info=validation_info, bytes_reserved=reserved
    )
    output = BytesIO()
    prepared, _ = document.digest_tbs_document(output=output)
    signed = await document.perform_signature(
        document_digest=prepared.document_digest,
        pdf_cms_signed_attrs=PdfCMSSignedAttributes(
            signing_time=session.system_time,
            cades_signed_attrs=pdf_signer.signature_meta.cades_signed_attr_spec,
        ),
    )
    await signed.post_signature_processing(output)
    return output.getvalue()


def verify_pdf(pdf: bytes, *, trust_roots: Sequence[Path | bytes]) -> Verification:
    """Check every signature of `pdf` against `trust_roots` (PEM/DER certificates), offline."""
    sha256 = hashlib.sha256(pdf).hexdigest()
    context = ValidationContext(trust_roots=_certificates(trust_roots), allow_fetching=False)
    # The bytes come from anyone: a damaged file can fail anywhere in the PDF, CMS or ASN.1
    # parsers, and the reader must be told "damaged", never shown a traceback.
    try:
        signatures = PdfFileReader(BytesIO(pdf)).embedded_signatures
    except Exception:
        return _failed(sha256, "damaged")
    try:
        statuses = [validate_pdf_signature(s, context) for s in signatures]
    except Exception:
        return _failed(sha256, "signature-damaged")
    if not statuses:
        return _failed(sha256, "unsigned")

    intact = all(s.intact for s in statuses)
    valid = all(s.valid for s in statuses)
    trusted = all(s.trusted for s in statuses)
    last = statuses[-1]  # signing order: only the last can cover the whole file
    whole_file = last.coverage == SignatureCoverageLevel.ENTIRE_FILE
    problems = [
        PROBLEMS[code]
        for code, failed in (
            ("altered", not intact),
            ("invalid", intact and not valid),
            # pyHanko never trusts a broken signature: then the certificate is not to blame.
            ("untrusted", intact and valid and not trusted),
            ("appended", not whole_file),
        )
        if failed
    ]
    return Verification(
        intact=intact and valid,
        trusted=trusted,
        covers_whole_file=whole_file,
        signer=_common_name(last.signing_cert),
        signed_at=last.signer_reported_dt,
        sha256=sha256,
        problems=problems,
    )


def _certificates(sources: Sequence[Path | bytes]) -> list[asn1_x509.Certificate]:
    certificates: list[asn1_x509.Certificate] = []
    for source in sources:
        data = source.read_bytes() if isinstance(source, Path) else source
        certificates.extend(load_certs_from_pemder_data(data))
    return certificates


def _failed(sha256: str, code: str) -> Verification:
    return Verification(
        intact=False,
        trusted=False,
        covers_whole_file=False,
        signer=None,
        signed_at=None,
        sha256=sha256,
        problems=[PROBLEMS[code]],
    )


def _common_name(certificate: asn1_x509.Certificate) -> str | None:
    name = certificate.subject.native.get("common_name")
    return name if isinstance(name, str) else None
