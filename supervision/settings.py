"""One settings class for every process: web, worker, CLI."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Configuration read from `SUPERVISION_*` environment variables and `.env`."""

    model_config = SettingsConfigDict(env_prefix="SUPERVISION_", env_file=".env", extra="ignore")

    environment: str = Field("development", description="development | production | test")
    var_dir: Path = Field(Path("var"), description="Where the SQLite file, media and the key live")
    database_url: str = Field("", description="SQLAlchemy URL; empty means SQLite under var_dir")
    database_pool_size: int = Field(
        20, ge=1, le=500, description="Database connections each process keeps open (one per request in flight)"
    )
    database_max_overflow: int = Field(
        10, ge=0, le=500, description="Extra database connections a process may open at peaks, closed after use"
    )
    secret_key: str = Field(
        "", description="The key that encrypts and signs (≥ 32 characters in production); empty: use the key file"
    )
    previous_secret_keys: str = Field(
        "", description="Older keys, newest first, space-separated: they still decrypt and verify (with SECRET_KEY)"
    )
    secret_key_file: Path | None = Field(
        None, description="Key file every machine shares (one key a line, newest last); default var_dir/secret.key"
    )
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

    @field_validator("secret_key_file", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _shared_key_in_production(self) -> Settings:
        # A key generated on each machine would leave data written on one unreadable on another.
        if self.environment == "production" and not self.secret_key and self.secret_key_file is None:
            raise ValueError(
                "生产环境必须配置密钥 / in production set SUPERVISION_SECRET_KEY or SUPERVISION_SECRET_KEY_FILE "
                "(a key file every machine shares): a key generated on each machine would leave phone numbers "
                "and camera passwords written on one unreadable on another, and the audit chain unverifiable"
            )
        if self.environment == "production" and any(
                len(k) < 32 for k in [self.secret_key, *self.previous_secret_keys.replace(",", " ").split()] if k):
            raise ValueError("SUPERVISION_SECRET_KEY and the previous keys need at least 32 characters in production")
        return self

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

    @property
    def key_file_path(self) -> Path:
        return (self.secret_key_file or self.var_dir / "secret.key").absolute()

    def resolved_secret_key(self) -> str:
        """Return the newest key (configured, or from the key file, made on first use)."""
        from supervision import keys

        return keys.ring(self).newest.secret


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings."""
    return Settings()
