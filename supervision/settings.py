"""One settings class for every process: web, worker, CLI."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Configuration read from `SUPERVISION_*` environment variables and `.env`."""

    model_config = SettingsConfigDict(env_prefix="SUPERVISION_", env_file=".env", extra="ignore")

    environment: str = Field("development", description="development | production | test")
    var_dir: Path = Field(Path("var"), description="Where the SQLite file, media and the key live")
    database_url: str = Field("", description="SQLAlchemy URL; empty means SQLite under var_dir")
    database_pool_size: int = Field(
        20, ge=1, le=500, description="PostgreSQL connections each process keeps open (one per request in flight)"
    )
    database_max_overflow: int = Field(
        10, ge=0, le=500, description="Extra PostgreSQL connections a process may open at peaks, closed after use"
    )
    secret_key: str = Field("", description="Key for sessions and encryption; generated into var_dir if empty")
    host: str = "127.0.0.1"
    port: int = 8000
    timezone: str = Field("Asia/Shanghai", description="The centre's local time zone")
    default_locale: str = Field("zh-CN", description="zh-CN or en")
    session_hours: int = Field(12, description="Browser session lifetime")
    bearer_token_hours: int = Field(8, description="Lifetime of tokens from /api/v1/auth/token")
    cookie_secure: bool = Field(False, description="Mark the session cookie Secure (behind HTTPS)")
    login_throttle_window_minutes: int = 15
    login_throttle_free_attempts: int = Field(3, description="Failures before logins are slowed")
    login_throttle_max_delay_seconds: float = 8.0
    login_lockout_attempts: int = Field(10, description="Failures in the window that lock the account")
    scheduler_enabled: bool = Field(True, description="Run the APScheduler jobs in this process")
    ingest_enabled: bool = Field(True, description="Run camera ingest inside `serve`")
    demo_password: str = Field("demo-2026", description="Password given to the demo accounts")
    max_upload_mb: int = 20
    password_hash_fast: bool = Field(False, description="Cheap argon2 parameters, for test suites only")

    @field_validator("password_hash_fast")
    @classmethod
    def _no_fast_hash_in_production(cls, value: bool, info: ValidationInfo) -> bool:
        if value and info.data.get("environment") == "production":
            raise ValueError("password_hash_fast is for tests; it cannot be set in production")
        return value

    @field_validator("default_locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        if value not in ("zh-CN", "en"):
            raise ValueError("default_locale must be zh-CN or en")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        ZoneInfo(value)
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.var_dir / 'supervision.db').as_posix()}"

    @property
    def media_dir(self) -> Path:
        return self.var_dir / "media"

    def resolved_secret_key(self) -> str:
        """Return the configured key, or the one kept in var_dir (made on first use)."""
        if self.secret_key:
            if self.environment == "production" and len(self.secret_key) < 32:
                raise ValueError("SUPERVISION_SECRET_KEY must be at least 32 characters in production")
            return self.secret_key
        key_file = (self.var_dir / "secret.key").absolute()
        cached = _KEY_FILES.get(key_file)
        if cached is not None:
            return cached
        if key_file.exists():
            key = key_file.read_text().strip()
        else:
            self.var_dir.mkdir(parents=True, exist_ok=True)
            key = secrets.token_urlsafe(48)
            key_file.write_text(key)
            key_file.chmod(0o600)
        # Read once per process: every encrypted field and audit entry needs it (a file read each was ~0.3 ms).
        _KEY_FILES[key_file] = key
        return key


_KEY_FILES: dict[Path, str] = {}


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings."""
    return Settings()
