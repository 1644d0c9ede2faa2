"""A development PKI for signing published PDFs: a root CA and the department's signing key.

Real signatures need a certificate from a licensed Vietnamese CA on a token; these keys let the
whole publishing path (sign, verify) run offline. The directory is never committed (`var/`).
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.keys import load_certs_from_pemder_data, load_private_key_from_pemder_data
from pyhanko.sign.signers import SimpleSigner
from pyhanko_certvalidator.registry import SimpleCertificateStore

CA_YEARS = 10
SIGNER_YEARS = 3
# id-kp-documentSigning (RFC 9336): the purpose a PDF signing certificate should declare.
DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")
# Clocks of the machines that verify may lag a little behind the one that issued.
BACKDATE = dt.timedelta(minutes=5)

NAME_LIMIT = 64  # ub-common-name and ub-organization-name (RFC 5280)

Passphrase = str | bytes | None


class KeyStoreError(Exception):
    """The key directory cannot be used as asked."""

    def __init__(self, message: str, paths: tuple[Path, ...]) -> None:
        super().__init__(message)
        self.paths = paths


class KeysExistError(KeyStoreError):
    """Keys are already there; overwriting them needs `force`."""


class KeysMissingError(KeyStoreError):
    """Some key or certificate file is not there."""


class KeysUnreadableError(KeyStoreError):
    """A key or certificate file is damaged, or the passphrase is wrong."""


@dataclass(frozen=True)
class KeyPaths:
    """Where the four files of a key directory live."""

    directory: Path
    ca_cert: Path
    ca_key: Path
    signer_cert: Path
    signer_key: Path

    @classmethod
    def of(cls, directory: Path) -> KeyPaths:
        return cls(
            directory=directory,
            ca_cert=directory / "ca.pem",
            ca_key=directory / "ca.key.pem",
            signer_cert=directory / "signer.pem",
            signer_key=directory / "signer.key.pem",
        )

    @property
    def files(self) -> tuple[Path, ...]:
        return (self.ca_cert, self.ca_key, self.signer_cert, self.signer_key)


def init_keys(
    directory: Path,
    *,
    organisation: str,
    code: str,
    force: bool = False,
    passphrase: Passphrase = None,
) -> KeyPaths:
    """Create a development CA and the organisation's signing certificate in `directory`."""
    paths = KeyPaths.of(directory)
    existing = tuple(p for p in paths.files if p.exists())
    if existing and not force:
        raise KeysExistError(f"keys already exist in {directory}", existing)

    now = dt.datetime.now(dt.UTC).replace(microsecond=0) - BACKDATE
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(f"duyet development CA — {code}", organisation)
    ca_cert = (
        _builder(subject=ca_name, issuer=ca_name, key=ca_key, issuer_key=ca_key)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=365 * CA_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .sign(ca_key, hashes.SHA256())
    )

    signer_key = ec.generate_private_key(ec.SECP256R1())
    signer_name = _name(organisation, organisation)
    signer_cert = (
        _builder(subject=signer_name, issuer=ca_name, key=signer_key, issuer_key=ca_key)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=365 * SIGNER_YEARS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True, content_commitment=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([DOCUMENT_SIGNING]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    directory.mkdir(mode=0o700, parents=True, exist_ok=True)  # an existing one keeps its mode
    _write_all(
        {
            paths.ca_key: (_private_pem(ca_key, passphrase), 0o600),
            paths.signer_key: (_private_pem(signer_key, passphrase), 0o600),
            paths.ca_cert: (ca_cert.public_bytes(serialization.Encoding.PEM), 0o644),
            paths.signer_cert: (signer_cert.public_bytes(serialization.Encoding.PEM), 0o644),
        }
    )
    return paths


def load_signer(directory: Path, *, passphrase: Passphrase = None) -> SimpleSigner:
    """The pyHanko signer of `directory`: signing key and certificate, the CA as chain."""
    paths = KeyPaths.of(directory)
    missing = tuple(
        p for p in (paths.ca_cert, paths.signer_cert, paths.signer_key) if not p.exists()
    )
    if missing:
        raise KeysMissingError(f"no signing keys in {directory}", missing)
    # Built by hand rather than with `SimpleSigner.load`, which logs and returns None on failure:
    # the caller needs to know whether the passphrase or a file is at fault.
    try:
        key = load_private_key_from_pemder_data(
            paths.signer_key.read_bytes(), passphrase=_bytes(passphrase)
        )
    except (ValueError, TypeError) as exc:
        message = f"cannot read {paths.signer_key}: {exc}"
        raise KeysUnreadableError(message, (paths.signer_key,)) from exc
    chain = SimpleCertificateStore()  # type: ignore[no-untyped-call]  # unannotated __init__
    chain.register(_certificate(paths.ca_cert))
    return SimpleSigner(
        signing_cert=_certificate(paths.signer_cert), signing_key=key, cert_registry=chain
    )


def fingerprint(certificate: Path) -> str:
    """SHA-256 fingerprint of a PEM certificate, as `AB:CD:…` (what certificate viewers show)."""
    cert = x509.load_pem_x509_certificate(certificate.read_bytes())
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()


def _certificate(path: Path) -> Any:  # asn1crypto.x509.Certificate (asn1crypto has no types)
    try:
        (certificate,) = load_certs_from_pemder_data(path.read_bytes())
    except ValueError as exc:  # not exactly one certificate, or not a certificate
        raise KeysUnreadableError(f"cannot read the certificate {path}: {exc}", (path,)) from exc
    return certificate


def _name(common_name: str, organisation: str) -> x509.Name:
    for value in (common_name, organisation):
        if not 1 <= len(value) <= NAME_LIMIT:
            raise ValueError(f"{value!r}: a certificate name holds 1 to {NAME_LIMIT} characters")
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _builder(
    *,
    subject: x509.Name,
    issuer: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    issuer_key: ec.EllipticCurvePrivateKey,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )


def _key_usage(
    *,
    digital_signature: bool = False,
    content_commitment: bool = False,
    key_cert_sign: bool = False,
    crl_sign: bool = False,
) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=content_commitment,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=crl_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _bytes(passphrase: Passphrase) -> bytes | None:
    return passphrase.encode() if isinstance(passphrase, str) else passphrase


def _private_pem(key: ec.EllipticCurvePrivateKey, passphrase: Passphrase) -> bytes:
    secret = _bytes(passphrase)
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(secret) if secret else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def _write_all(files: dict[Path, tuple[bytes, int]]) -> None:
    """Write every file whole, or none: temporary files beside them first, then renames."""
    staged: list[tuple[Path, Path]] = []
    try:
        for path, (data, mode) in files.items():
            fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
            staged.append((Path(name), path))
            os.fchmod(fd, mode)  # mkstemp made it 0600: a key is never readable by others
            with os.fdopen(fd, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
        for temporary, path in staged:
            os.replace(temporary, path)
    finally:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)


def ensure_keys(directory: Path, *, organisation: str, code: str) -> bool:
    """Create development keys in `directory` unless it has them; whether it made them.

    For a local stack and its tests; production installs real keys (or runs `duyet keys init`).
    """
    if KeyPaths.of(directory).signer_cert.exists():
        return False
    init_keys(directory, organisation=organisation, code=code)
    return True
