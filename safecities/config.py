"""One settings object for the whole application (environment variables prefixed SAFECITIES_)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SAFECITIES_", extra="ignore")

    #: Working folder for the embedded database, plots and exports.
    var_dir: Path = Path("var")
    #: SQLAlchemy URL; default is an SQLite file in var_dir.
    database_url: str | None = None
    #: Secret for session tokens; must be set outside development.
    secret_key: str = "development-only-secret"
    environment: str = "development"
    #: Largest multipart upload (MB), refused before it is read (safecities.api.limits).
    max_upload_mb: float = 50
    #: Largest other request body (MB): JSON and form posts are small.
    max_body_mb: float = 2
    #: Trusted reverse proxies (comma list) for X-Forwarded-For; empty: use the socket address.
    forwarded_allow_ips: str = ""
    #: Roles without incident access see hotspot cells or zones only with >= k incidents.
    min_cell_count: int = 3

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        self.var_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{(self.var_dir / 'safecities.db').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
