"""Settings (SPEC §5): CLI flags, environment, `.env`/`.env.local`, a TOML file, defaults."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from tursotui.db.urls import InvalidURL, parse_url


class SettingsError(Exception):
    """A bad setting: one line naming the setting and where it came from."""


def config_dir() -> Path:
    """The XDG config directory for tursotui."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "tursotui"


def default_data_dir() -> Path:
    """The XDG data directory for tursotui (local tenants, history, audit log)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "tursotui"


def config_file() -> Path:
    """The TOML settings file: `TURSOTUI_CONFIG_FILE`, else `config.toml` in the config dir."""
    override = os.environ.get("TURSOTUI_CONFIG_FILE")
    return Path(override) if override else config_dir() / "config.toml"


class TomlFileSource(PydanticBaseSettingsSource):
    """Reads the TOML settings file; unknown keys and bad TOML are errors naming the file."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        self.path = config_file()
        self.values = self._load()

    def _load(self) -> dict[str, Any]:
        if not self.path.is_file():
            return {}
        try:
            values = tomllib.loads(self.path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as error:
            raise SettingsError(f"config file {self.path}: not valid TOML ({error})") from None
        known = set(self.settings_cls.model_fields)
        for key in values:
            if key not in known:
                raise SettingsError(
                    f"config file {self.path}: unknown setting {key!r} "
                    f"(known: {', '.join(sorted(known))})"
                )
        return values

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self.values.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self.values)


class Settings(BaseSettings):
    """Everything tursotui can be told; see README for each setting's sources."""

    model_config = SettingsConfigDict(
        env_prefix="TURSOTUI_",
        env_file=(".env", ".env.local"),
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    registry_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("registry_url", "TURSOTUI_REGISTRY_URL", "TURSO_DATABASE_URL"),
    )
    """URL of the registry (metadata) database; default `file:<data dir>/registry.db`."""

    registry_auth_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "registry_auth_token", "TURSOTUI_REGISTRY_AUTH_TOKEN", "TURSO_AUTH_TOKEN"
        ),
    )
    """Token of the registry database, if it needs one."""

    registry_table: str = "organizations"
    """Name of the registry table."""

    turso_org: str | None = Field(
        default=None, validation_alias=AliasChoices("turso_org", "TURSO_ORG")
    )
    """Turso organization slug for the Platform API; unset means local provisioning."""

    platform_api_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("platform_api_token", "TURSO_PLATFORM_API_TOKEN"),
    )
    """Turso Platform API token; unset means local provisioning."""

    platform_url: str = "https://api.turso.tech"
    """Base URL of the Turso Platform API."""

    group: str = "default"
    """Turso group that new tenant databases are created in."""

    data_dir: Path = Field(default_factory=default_data_dir)
    """Where local tenants, SQL history and the audit log live."""

    migrations_dir: Path | None = None
    """The app's drizzle migrations folder; default the built-in one."""

    read_only: bool = False
    """Refuse every write, everywhere."""

    operator: str = Field(default_factory=lambda: os.environ.get("USER") or "operator")
    """Name recorded in the audit log."""

    fleet_concurrency: int = Field(default=16, ge=1, le=256)
    """How many tenants are asked at once by the tenants and fleet screens."""

    timeout: float = Field(default=10.0, gt=0)
    """Seconds a remote call may take."""

    @field_validator("registry_table")
    @classmethod
    def _table_name(cls, value: str) -> str:
        if not value.replace("_", "").isalnum():
            raise ValueError("must be a plain table name (letters, digits, _)")
        return value

    @field_validator("registry_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value:
            try:
                parse_url(value)
            except InvalidURL as error:
                raise ValueError(str(error)) from None
        return value or None

    @property
    def registry_location(self) -> str:
        """The registry URL in force."""
        return self.registry_url or f"file:{self.data_dir / 'registry.db'}"

    @property
    def owns_registry(self) -> bool:
        """True when the registry is tursotui's own local default (it may create it)."""
        return self.registry_url is None

    @property
    def uses_platform_api(self) -> bool:
        """True when Turso credentials are set, so tenants are provisioned through the API."""
        return bool(self.turso_org and self.platform_api_token)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, dotenv_settings, TomlFileSource(settings_cls))


def load_settings(**overrides: Any) -> Settings:
    """Build the settings; `overrides` are CLI flags (None means not given).

    Raises:
        SettingsError: one line naming the bad setting and its source.
    """
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**given)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "settings"
        raise SettingsError(f"setting {field}: {first['msg']}") from None
