"""Settings: CLI flags, environment, `.env`/`.env.local`, a TOML file, defaults."""

from __future__ import annotations

import getpass
import os
import re
import string
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from dotenv import dotenv_values
from pydantic import (
    AliasChoices,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from tursotui.db.urls import InvalidURL, parse_url
from tursotui.errors import TursotuiError


class SettingsError(TursotuiError):
    """A bad setting: one line naming the setting and where it came from."""

    title = "Settings"


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
            if os.environ.get("TURSOTUI_CONFIG_FILE"):
                # Named on purpose: a typo in the path must not silently mean "no settings".
                what = "is not a file" if self.path.exists() else "does not exist"
                raise SettingsError(
                    f"config file {self.path} (from environment variable TURSOTUI_CONFIG_FILE) "
                    f"{what}"
                )
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


DOTENV_FILES = (".env", ".env.local")
"""Read from the working directory; a later file overrides an earlier one (`.env.local` wins)."""

FALLBACKS = {"registry_url": "TURSO_DATABASE_URL", "registry_auth_token": "TURSO_AUTH_TOKEN"}
"""The app's own variables, used when no tursotui setting names the registry."""


def _dotenv() -> dict[str, tuple[str, str]]:
    """Variables of `.env`/`.env.local` in the working directory: name -> (value, file)."""
    found: dict[str, tuple[str, str]] = {}
    for name in DOTENV_FILES:
        path = Path(name)
        if path.is_file():
            for key, value in dotenv_values(path, encoding="utf-8").items():
                if value is not None:
                    found[key] = (value, name)
    return found


class FallbackSource(PydanticBaseSettingsSource):
    """The app's `TURSO_DATABASE_URL`/`TURSO_AUTH_TOKEN` (environment or `.env`), lowest of all.

    They are the app's own names, so running tursotui inside the app's project finds
    the metadata database; any tursotui setting of the registry (even in the TOML file)
    is more specific and wins.
    """

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        dotenv = _dotenv()
        values = {}
        for field_name, variable in FALLBACKS.items():
            if os.environ.get(variable):
                values[field_name] = os.environ[variable]
            elif dotenv.get(variable, ("", ""))[0]:
                values[field_name] = dotenv[variable][0]
        return values


def _env_names(field_name: str) -> list[str]:
    """The environment variables that set a field (upper-case), most specific first."""
    field = Settings.model_fields[field_name]
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return [str(c).upper() for c in alias.choices if str(c).upper() != field_name.upper()]
    return [f"TURSOTUI_{field_name.upper()}"]


def setting_source(field_name: str, cli: dict[str, Any] | None = None) -> str:
    """Where the value of a setting comes from, in words (for error messages).

    Follows the same precedence as `Settings`: CLI flag, environment, `.env`
    files, the TOML file, the app's own `TURSO_*` variables, the default.
    """
    if cli and field_name in cli:
        return f"command-line flag --{field_name.replace('_', '-')}"
    environ = {k.upper(): v for k, v in os.environ.items()}
    names = _env_names(field_name)
    for name in names:
        if name in environ:
            return f"environment variable {name}"
    dotenv = {k.upper(): v for k, v in _dotenv().items()}
    for name in names:
        if name in dotenv:
            return f"{dotenv[name][1]} file ({name})"
    path = config_file()
    if path.is_file():
        try:
            if field_name in tomllib.loads(path.read_text(encoding="utf-8")):
                return f"config file {path}"
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError):
            pass
    variable = FALLBACKS.get(field_name)
    if variable and os.environ.get(variable):
        return f"environment variable {variable}"
    if variable and variable in dotenv:
        return f"{dotenv[variable][1]} file ({variable})"
    return "the default"


_SECRET_QUERY = re.compile(r"(?i)(auth_?token|token|jwt|password)=[^&\s'\"]*")


REGISTRY_ROLES = ("slug", "name", "url", "db_name", "token", "id", "created_at")
"""What a registry column can hold, for `registry_columns`."""

TEMPLATE_PLACEHOLDERS = ("db_name", "slug", "org")
"""What `tenant_url_template` may use."""


def _redact(text: str) -> str:
    """Hide token-looking query parameters that a URL in a message may carry."""
    return _SECRET_QUERY.sub(lambda m: f"{m.group(1)}=•••", text)


_DURATION = re.compile(r"(\d+)\s*([wdhms])")
_UNIT_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(value: Any) -> int:
    """Seconds in `value`: a number of seconds, or units like `1h`, `30m`, `2w1d30m`.

    Raises:
        ValueError: the text is neither.
    """
    if isinstance(value, bool):
        raise ValueError("must be a duration such as 3600, 30m, 1h or 1d")
    if isinstance(value, int | float):
        return int(value)
    text = str(value).strip().lower()
    if text.isdigit():
        return int(text)
    compact = text.replace(" ", "")
    parts = _DURATION.findall(compact)
    if not parts or "".join(n + u for n, u in parts) != compact:
        raise ValueError("must be a duration such as 3600, 30m, 1h or 1d")
    return sum(int(n) * _UNIT_SECONDS[u] for n, u in parts)


def _default_operator() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):  # no login name in some containers
        return "operator"


class Settings(BaseSettings):
    """Everything tursotui can be told; see README for each setting's sources."""

    model_config = SettingsConfigDict(
        env_prefix="TURSOTUI_",
        env_file=DOTENV_FILES,
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    registry_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("registry_url", "TURSOTUI_REGISTRY_URL"),
    )
    """URL of the registry (metadata) database; default `file:<data dir>/registry.db`.

    Falls back to the app's own `TURSO_DATABASE_URL` when no tursotui source sets it.
    """

    registry_auth_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("registry_auth_token", "TURSOTUI_REGISTRY_AUTH_TOKEN"),
    )
    """Token of the registry database, if it needs one (falls back to `TURSO_AUTH_TOKEN`)."""

    registry_table: str = "organizations"
    """Name of the registry table."""

    registry_columns: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)
    """Which column holds which role (`url=tenantDbUrl,token=secretBlob`), over the names
    tursotui recognises by itself; an empty column (`token=`) means the registry has none."""

    tenant_url_template: str | None = None
    """URL of a tenant whose row has only a database name, e.g.
    `libsql://{db_name}-{org}.turso.io` (placeholders `{db_name}`, `{slug}`, `{org}`)."""

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

    sqld_admin_url: str | None = None
    """Admin API of a self-hosted sqld (`http://host:9090`): `tenants usage` reads each
    remote tenant's figures from `/v1/namespaces/<first label of its host>/stats`."""

    trash_days: float = Field(default=7.0, ge=0)
    """Days a destroyed local tenant's file stays in `<data dir>/trash/` (for `tenants
    undelete`) before the next destroy or `tenants deleted` removes it for good."""

    read_only: bool = False
    """Refuse every write, everywhere."""

    operator: str = Field(default_factory=_default_operator, min_length=1)
    """Name recorded in the audit log."""

    fleet_concurrency: int = Field(default=16, ge=1, le=256)
    """How many tenants are asked at once by the tenants and fleet screens."""

    timeout: float = Field(default=10.0, gt=0)
    """Seconds a remote call may take."""

    console_row_cap: int = Field(default=100_000, ge=100)
    """Most rows the SQL console loads into its grid for one result (export takes all)."""

    _registry_source: str = PrivateAttr(default="")

    console_timeout: float = Field(default=300.0, gt=0)
    """Seconds a statement run in the SQL console may take on a remote tenant: analytic
    queries outlast `timeout`, which stays the limit for connecting and everything else."""

    token_command: str | None = None
    """A shell command that turns a tenant's stored token into the token to send.

    It reads the stored value on stdin and the slug from `TURSOTUI_TENANT_SLUG`, and
    prints the token on stdout (like a git credential helper); for encrypted registries.
    """

    token_command_timeout: float = Field(default=5.0, gt=0)
    """Seconds the token command may take for one tenant before it is killed."""

    group_auth_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "group_auth_token", "TURSOTUI_GROUP_AUTH_TOKEN", "TURSO_GROUP_AUTH_TOKEN"
        ),
    )
    """One token for every tenant of a Turso group, for tenants that store none."""

    minted_token_ttl: int = 3600
    """Lifetime of tokens minted through the Platform API: seconds, or `30m`, `1h`, `1d`."""

    token_source: Literal["command", "stored", "group", "mint"] | None = None
    """Pin where every tenant's token comes from; unset means the first source that applies."""

    replicas: Literal["off", "on-demand", "always"] = "on-demand"
    """Embedded replicas of remote tenants: `on-demand` reads a tenant from its replica when
    it has one (`tursotui replica sync`), `always` makes one when a remote tenant is first
    opened, `off` reads every tenant from its primary."""

    @field_validator("minted_token_ttl", mode="before")
    @classmethod
    def _ttl(cls, value: Any) -> int:
        seconds = parse_duration(value)
        if seconds < 60:
            raise ValueError("must be at least one minute (e.g. 3600, 30m, 1h, 1d)")
        return seconds

    @field_validator("token_command")
    @classmethod
    def _command(cls, value: str | None) -> str | None:
        return (value.strip() or None) if value is not None else None

    @field_validator("token_source", mode="before")
    @classmethod
    def _source(cls, value: Any) -> Any:
        if isinstance(value, str):
            return value.strip().lower() or None
        return value

    @field_validator("registry_table")
    @classmethod
    def _table_name(cls, value: str) -> str:
        if not value.replace("_", "").isalnum():
            raise ValueError("must be a plain table name (letters, digits, _)")
        return value

    @field_validator("registry_columns", mode="before")
    @classmethod
    def _columns(cls, value: Any) -> Any:
        if isinstance(value, str):  # the environment's `role=column,role=column`
            pairs: dict[str, str] = {}
            for part in value.split(","):
                if not part.strip():
                    continue
                role, mark, column = part.partition("=")
                if not mark:
                    raise ValueError(f"{part.strip()!r} is not role=column")
                pairs[role.strip()] = column.strip()
            value = pairs
        if isinstance(value, dict):
            for role in value:
                if str(role).strip().lower() not in REGISTRY_ROLES:
                    raise ValueError(f"unknown role {role!r} (roles: {', '.join(REGISTRY_ROLES)})")
            value = {str(k).strip().lower(): str(v).strip() for k, v in value.items()}
        return value

    @field_validator("tenant_url_template")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        if not value:
            return None
        try:
            fields = list(string.Formatter().parse(value))
        except ValueError as error:  # an unmatched brace
            raise ValueError(f"not a valid template ({error})") from None
        for _, placeholder, spec, conversion in fields:
            if placeholder is None:
                continue
            if placeholder not in TEMPLATE_PLACEHOLDERS or spec or conversion:
                raise ValueError(
                    f"unknown placeholder {{{placeholder}}} "
                    f"(known: {', '.join('{' + p + '}' for p in TEMPLATE_PLACEHOLDERS)})"
                )
        return value

    @field_validator("data_dir", "migrations_dir")
    @classmethod
    def _home(cls, value: Path | None) -> Path | None:
        # `~` from a TOML or .env file is not expanded by any shell
        return value.expanduser() if value is not None else None

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
    def registry_origin(self) -> str:
        """Where the registry URL in force came from, in words (`environment variable …`)."""
        if self.registry_url is None:
            return "the default: registry.db in the data dir"
        return self._registry_source or "settings"

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
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            TomlFileSource(settings_cls),
            FallbackSource(settings_cls),
        )


def load_settings(**overrides: Any) -> Settings:
    """Build the settings; `overrides` are CLI flags (None means not given).

    Raises:
        SettingsError: one line naming the bad setting and its source.
    """
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        settings = Settings(**given)
    except ValidationError as error:
        first = error.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "settings"
        if field not in Settings.model_fields:
            # an alias (TURSO_ORG...) or an init keyword that is not a setting
            matches = [n for n in Settings.model_fields if field.upper() in _env_names(n)]
            field = matches[0] if matches else field
        where = setting_source(field, given) if field in Settings.model_fields else "settings"
        message = _redact(str(first["msg"]))
        raise SettingsError(f"setting {field} (from {where}): {message}") from None
    except ValueError as error:  # pydantic-settings' own parse errors (e.g. a bad .env line)
        raise SettingsError(f"settings: {_redact(str(error))}") from None
    template = settings.tenant_url_template
    if template and "{org}" in template and not settings.turso_org:
        where = setting_source("tenant_url_template", given)
        raise SettingsError(
            f"setting tenant_url_template (from {where}): uses {{org}} but TURSO_ORG is not set"
        )
    # The app's TURSO_AUTH_TOKEN belongs to the app's TURSO_DATABASE_URL: never send it
    # to a registry named by a tursotui setting.
    if (
        settings.registry_auth_token is not None
        and setting_source("registry_auth_token", given) in _fallback_sources("registry_auth_token")
        and setting_source("registry_url", given) not in _fallback_sources("registry_url")
    ):
        settings.registry_auth_token = None
    if settings.registry_url is not None:
        settings._registry_source = setting_source("registry_url", given)
    _check_token_source(settings, given)
    return settings


def _check_token_source(settings: Settings, given: dict[str, Any]) -> None:
    """A pinned token source needs its own setting; without it no tenant could open."""
    needs = {
        "command": ("TURSOTUI_TOKEN_COMMAND", bool(settings.token_command)),
        "group": (
            "TURSO_GROUP_AUTH_TOKEN",
            bool(settings.group_auth_token and settings.group_auth_token.get_secret_value()),
        ),
        "mint": ("TURSO_ORG and TURSO_PLATFORM_API_TOKEN", settings.uses_platform_api),
    }
    pinned = settings.token_source
    if pinned in needs and not needs[pinned][1]:
        where = setting_source("token_source", given)
        raise SettingsError(
            f"setting token_source (from {where}): {pinned!r} needs {needs[pinned][0]} set"
        )


def _fallback_sources(field_name: str) -> set[str]:
    variable = FALLBACKS[field_name]
    return {f"environment variable {variable}"} | {
        f"{name} file ({variable})" for name in DOTENV_FILES
    }
