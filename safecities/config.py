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
    #: The deployment's secret: it keys the audit log's HMAC seal (kept outside the database, so
    #: whoever can write the database cannot re-seal a rewritten log). Must be set outside
    #: development; changing it makes older entries fail `audit verify`.
    secret_key: str = "development-only-secret"
    #: A file holding the secret instead (e.g. a container or systemd credential); wins if set.
    secret_key_file: Path | None = None
    environment: str = "development"
    #: Largest multipart upload (MB), refused before it is read (safecities.api.limits).
    max_upload_mb: float = 50
    #: Largest other request body (MB): JSON and form posts are small.
    max_body_mb: float = 2
    #: Trusted reverse proxies (comma list) for X-Forwarded-For; empty: use the socket address.
    forwarded_allow_ips: str = ""
    #: Roles without incident access see hotspot cells or zones only with >= k incidents.
    min_cell_count: int = 3

    def audit_key(self) -> bytes:
        """The HMAC key of the audit log: `secret_key_file`'s content, else `secret_key`."""
        from safecities.errors import SafecitiesError

        if self.secret_key_file is not None:
            try:
                key = self.secret_key_file.read_bytes().strip()
            except OSError as exc:
                raise SafecitiesError(f"secret_key_file {self.secret_key_file}: {exc}") from None
        else:
            key = self.secret_key.encode()
        if self.environment != "development" and key == b"development-only-secret":
            raise SafecitiesError(
                "SAFECITIES_SECRET_KEY (or SAFECITIES_SECRET_KEY_FILE) must be set outside "
                "development: it seals the audit log"
            )
        if not key:
            raise SafecitiesError("the secret key is empty")
        return key

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        self.var_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{(self.var_dir / 'safecities.db').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
