"""One settings object for every part of duyet, built explicitly by `get_settings()`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]
WEAK_SECRETS = {"changeme", "secret", "password", "changethis", "development", "test"}


class SettingsError(Exception):
    """A setting needed now is missing or unsafe; the message names the variable."""


class Settings(BaseSettings):
    """Runtime configuration, read from `DUYET_*` environment variables."""

    model_config = SettingsConfigDict(env_prefix="DUYET_", extra="ignore", frozen=True)

    var_dir: Path = Field(default=PROJECT_ROOT / "var")
    database_url: str = ""
    definitions_dir: Path = Field(default=PROJECT_ROOT / "definitions")
    max_document_bytes: int = Field(default=20 * 1024 * 1024, gt=0)  # per document version
    timezone: str = "Asia/Ho_Chi_Minh"  # how times are shown to people; stored times are UTC

    # Links in mail are built from this, never from a request's Host header.
    public_base_url: str | None = None
    # Signs link tokens and CSRF tokens; never defaulted (see `require_secret`).
    secret_key: SecretStr | None = None
    link_grace_days: int = Field(default=5, ge=0)  # a link outlives its stage deadline by this
    # Signing keys (ký số), one folder per issuing body code under this; default var/keys.
    signing_keys_dir: Path | None = None

    smtp_host: str | None = None
    smtp_port: int | None = None  # default: 465 with SSL, 587 with STARTTLS, else 25
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    smtp_from: str | None = None  # default: duyet@<organisation mail domain>
    smtp_timeout: float = Field(default=30.0, gt=0)
    mail_max_attempts: int = Field(default=8, ge=1)  # then the mail is a dead letter
    mail_backoff_seconds: float = Field(default=30.0, gt=0)  # first retry delay, doubled each time
    mail_backoff_max_seconds: float = Field(default=3600.0, gt=0)
    dev_mail: bool = False  # the local mail sink and /dev/inbox (refused off loopback)
    dev_mail_port: int = Field(default=8025, ge=1, le=65535)
    portal_host: str = "127.0.0.1"
    portal_port: int = Field(default=8000, ge=1, le=65535)
    prefect_port: int = Field(default=4200, ge=1, le=65535)
    # A cycle's run is Pending or Running for seconds between two waits; one held longer lost its
    # process (its worker was killed) and the reconciler replaces it.
    run_lease_seconds: float = Field(default=600.0, gt=0)
    # Where workers find the project: each worker machine's git checkout at this path (the
    # deployments' pull step). Unset: the folder `duyet deploy` runs from, as on one machine.
    checkout_dir: Path | None = None
    # Flow runs at once on the `duyet` work pool, and per plan line (a suspended cycle holds no
    # slot: only runs between two waits, and in a warm wait, count). Unset: no limit.
    pool_concurrency: int | None = Field(default=None, ge=1)
    line_concurrency: int | None = Field(default=None, ge=1)
    # Seconds a cycle's run waits in its process for a stage's answers before it suspends:
    # answers that come at once move the cycle on in the same process, with no resume (a new
    # process: seconds, and about a CPU-second). The run holds its worker slot meanwhile.
    # 0: suspend at once.
    warm_wait_seconds: float = Field(default=20.0, ge=0, le=300)
    # The Python of the workers' environment, which starts each flow run through the fork
    # server (`python -m duyet.launch`). Unset: the interpreter `duyet deploy` runs in.
    worker_python: str | None = None

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{self.var_dir / 'duyet.db'}")
        return self

    @property
    def smtp_effective_port(self) -> int:
        if self.smtp_port is not None:
            return self.smtp_port
        return 465 if self.smtp_ssl else 587 if self.smtp_starttls else 25

    def require_secret(self) -> bytes:
        """The signing key; refuses a missing, short or well-known one, naming the variable."""
        if self.secret_key is None:
            raise SettingsError("DUYET_SECRET_KEY is not set")
        value = self.secret_key.get_secret_value()
        if len(value) < 32 or value.lower() in WEAK_SECRETS:
            raise SettingsError("DUYET_SECRET_KEY must be at least 32 random characters")
        return value.encode()

    def require_public_base_url(self) -> str:
        """Where reviewers reach the portal, without a trailing slash."""
        if not self.public_base_url:
            raise SettingsError("DUYET_PUBLIC_BASE_URL is not set")
        if not self.public_base_url.startswith(("http://", "https://")):
            raise SettingsError("DUYET_PUBLIC_BASE_URL must start with http:// or https://")
        return self.public_base_url.rstrip("/")

    def keys_dir(self, code: str) -> Path:
        """Where the signing keys of issuing body `code` (SVHTTDL…) are."""
        return (self.signing_keys_dir or self.var_dir / "keys") / code

    @property
    def units_path(self) -> Path:
        return self.definitions_dir / "units.yaml"

    @property
    def calendar_path(self) -> Path:
        return self.definitions_dir / "calendar.yaml"

    @property
    def plans_dir(self) -> Path:
        return self.definitions_dir / "plans"

    @property
    def processes_dir(self) -> Path:
        return self.definitions_dir / "processes"


def get_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build settings from `environ` (the process environment by default)."""
    env = os.environ if environ is None else environ
    values = {
        key[len("DUYET_") :].lower(): value
        for key, value in env.items()
        if key.startswith("DUYET_") and value != ""
    }
    return Settings.model_validate(values)
