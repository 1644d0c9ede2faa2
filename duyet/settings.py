"""One settings object for every part of duyet, built explicitly by `get_settings()`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    """Runtime configuration, read from `DUYET_*` environment variables."""

    model_config = SettingsConfigDict(env_prefix="DUYET_", extra="ignore", frozen=True)

    var_dir: Path = Field(default=PROJECT_ROOT / "var")
    database_url: str = ""
    definitions_dir: Path = Field(default=PROJECT_ROOT / "definitions")
    max_document_bytes: int = Field(default=20 * 1024 * 1024, gt=0)  # per document version
    timezone: str = "Asia/Ho_Chi_Minh"  # how times are shown to people; stored times are UTC

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{self.var_dir / 'duyet.db'}")
        return self

    @property
    def units_path(self) -> Path:
        return self.definitions_dir / "units.yaml"

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
