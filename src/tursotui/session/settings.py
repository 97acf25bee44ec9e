"""Settings: CLI flags, environment, `.env`/`.env.local`, a TOML file, defaults.

A plain dataclass and a loader, not a validation library: the settings are read on every
start (the TUI's and every command's), so they cost only what reading them costs.
"""

from __future__ import annotations

import getpass
import math
import os
import re
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from tursotui.db.urls import InvalidURL, parse_url
from tursotui.errors import TursotuiError
from tursotui.secret import Secret


class SettingsError(TursotuiError):
    """A bad setting: one line naming the setting and where it came from."""

    title = "Settings"


class InvalidSetting(SettingsError):
    """A value a setting cannot take; `load_settings` adds where the value came from."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"setting {name}: {reason}")
        self.name = name
        self.reason = reason


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


def _read_toml() -> tuple[Path, dict[str, Any]]:
    """The TOML settings file and its values; unknown keys and bad TOML are errors naming it."""
    path = config_file()
    if not path.is_file():
        if os.environ.get("TURSOTUI_CONFIG_FILE"):
            # Named on purpose: a typo in the path must not silently mean "no settings".
            what = "is not a file" if path.exists() else "does not exist"
            raise SettingsError(
                f"config file {path} (from environment variable TURSOTUI_CONFIG_FILE) {what}"
            )
        return path, {}
    import tomllib  # here, not at the top: most starts have no settings file

    try:
        values = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as error:
        raise SettingsError(f"config file {path}: not valid TOML ({error})") from None
    known = set(SETTING_NAMES)
    for key in values:
        if key not in known:
            raise SettingsError(
                f"config file {path}: unknown setting {key!r} (known: {', '.join(sorted(known))})"
            )
    return path, values


DOTENV_FILES = (".env", ".env.local")
"""Read from the working directory; a later file overrides an earlier one (`.env.local` wins)."""

FALLBACKS = {"registry_url": "TURSO_DATABASE_URL", "registry_auth_token": "TURSO_AUTH_TOKEN"}
"""The app's own variables, used when no tursotui setting names the registry.

They are the app's own names, so running tursotui inside the app's project finds the
metadata database; any tursotui setting of the registry (even in the TOML file) is more
specific and wins."""

ENV_NAMES: dict[str, tuple[str, ...]] = {
    "turso_org": ("TURSO_ORG",),
    "platform_api_token": ("TURSO_PLATFORM_API_TOKEN",),
    "group_auth_token": ("TURSOTUI_GROUP_AUTH_TOKEN", "TURSO_GROUP_AUTH_TOKEN"),
}
"""Settings read from other variables than `TURSOTUI_<NAME>` (Turso's own names)."""


def _dotenv() -> dict[str, tuple[str, str]]:
    """Variables of `.env`/`.env.local` in the working directory: NAME -> (value, file).

    Names are upper-cased: like the environment, a `.env` file's names are not case-sensitive.
    """
    found: dict[str, tuple[str, str]] = {}
    for name in DOTENV_FILES:
        path = Path(name)
        if path.is_file():
            # Here, not at the top: most starts have no .env file to parse.
            from dotenv import dotenv_values

            for key, value in dotenv_values(path, encoding="utf-8").items():
                if value is not None:
                    found[key.upper()] = (value, name)
    return found


def _env_names(field_name: str) -> tuple[str, ...]:
    """The environment variables that set a field (upper-case), most specific first."""
    return ENV_NAMES.get(field_name, (f"TURSOTUI_{field_name.upper()}",))


_SECRET_QUERY = r"(?i)(auth_?token|token|jwt|password)=[^&\s'\"]*"
"""Patterns are compiled by `re` when first used (and kept in its cache): only an error
message and a duration written in units need them, and every start reads the settings."""


REGISTRY_ROLES = ("slug", "name", "url", "db_name", "token", "id", "created_at")
"""What a registry column can hold, for `registry_columns`."""

TEMPLATE_PLACEHOLDERS = ("db_name", "slug", "org")
"""What `tenant_url_template` may use."""


def _redact(text: str) -> str:
    """Hide token-looking query parameters that a URL in a message may carry."""
    return re.sub(_SECRET_QUERY, lambda m: f"{m.group(1)}=•••", text)


_DURATION = r"(\d+)\s*([wdhms])"
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
    parts = re.findall(_DURATION, compact)
    if not parts or "".join(n + u for n, u in parts) != compact:
        raise ValueError("must be a duration such as 3600, 30m, 1h or 1d")
    return sum(int(n) * _UNIT_SECONDS[u] for n, u in parts)


def _default_operator() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):  # no login name in some containers
        return "operator"


# -- converting one value ---------------------------------------------------------------
# Each takes a value as any source gives it (text from the environment or a .env file, a
# TOML value, a flag's value) and returns the setting's value, or raises ValueError with
# what the setting must be. Each also takes its own result (a copy of the settings checks
# its values again).

Convert = Callable[[Any], Any]

_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "off"})


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be text, not {type(value).__name__} {value!r}")
    return value


def _secret(value: Any) -> Secret:
    if isinstance(value, Secret):
        return value
    if not isinstance(value, str):
        raise ValueError(f"must be text, not {type(value).__name__}")  # never the value
    return Secret(value)


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise ValueError(f"must be true or false (or 1/0, yes/no, on/off), not {value!r}")


def _number(value: Any, kind: str) -> float:
    """`value` as a number; `kind` says which (for the message)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"must be {kind}, not {value!r}")
    try:
        return float(value.strip()) if isinstance(value, str) else float(value)
    except ValueError:
        raise ValueError(f"must be {kind}, not {value!r}") from None


def _integer(low: int, high: int | None = None) -> Convert:
    def convert(value: Any) -> int:
        kind = "a whole number"
        if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
            number = int(value.strip())
        else:
            found = _number(value, kind)
            if not found.is_integer():
                raise ValueError(f"must be {kind}, not {value!r}")
            number = int(found)
        if number < low or (high is not None and number > high):
            bounds = f"from {low} to {high}" if high is not None else f"at least {low}"
            raise ValueError(f"must be {bounds}, not {number}")
        return number

    return convert


def _real(*, above: float | None = None, least: float | None = None) -> Convert:
    def convert(value: Any) -> float:
        number = _number(value, "a number")
        if math.isnan(number):
            raise ValueError(f"must be a number, not {value!r}")
        if above is not None and not number > above:
            raise ValueError(f"must be greater than {above:g}, not {number:g}")
        if least is not None and not number >= least:
            raise ValueError(f"must be at least {least:g}, not {number:g}")
        return number

    return convert


def _choice(*options: str) -> Convert:
    def convert(value: Any) -> str:
        if value not in options:
            raise ValueError(f"must be one of {', '.join(options)}, not {value!r}")
        return str(value)

    return convert


def _path(value: Any) -> Path:
    if not isinstance(value, str | Path):
        raise ValueError(f"must be a path, not {value!r}")
    # `~` from a TOML or .env file is not expanded by any shell
    return Path(value).expanduser()


def _optional(convert: Convert) -> Convert:
    def optional(value: Any) -> Any:
        return None if value is None else convert(value)

    return optional


def _ttl(value: Any) -> int:
    seconds = parse_duration(value)
    if seconds < 60:
        raise ValueError("must be at least one minute (e.g. 3600, 30m, 1h, 1d)")
    return seconds


def _command(value: Any) -> str | None:
    return None if value is None else (_text(value).strip() or None)


def _token_source(value: Any) -> str | None:
    if isinstance(value, str):
        value = value.strip().lower() or None
    return None if value is None else _choice("command", "stored", "group", "mint")(value)


def _table_name(value: Any) -> str:
    text = _text(value)
    if not text.replace("_", "").isalnum():
        raise ValueError("must be a plain table name (letters, digits, _)")
    return text


def _columns(value: Any) -> dict[str, str]:
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
    if not isinstance(value, dict):
        raise ValueError("must be a table of role = column (or role=column,role=column)")
    for role in value:
        if str(role).strip().lower() not in REGISTRY_ROLES:
            raise ValueError(f"unknown role {role!r} (roles: {', '.join(REGISTRY_ROLES)})")
    return {str(k).strip().lower(): str(v).strip() for k, v in value.items()}


def _template(value: Any) -> str | None:
    if not value:
        return None
    text = _text(value)
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError as error:  # an unmatched brace
        raise ValueError(f"not a valid template ({error})") from None
    for _, placeholder, spec, conversion in parts:
        if placeholder is None:
            continue
        if placeholder not in TEMPLATE_PLACEHOLDERS or spec or conversion:
            raise ValueError(
                f"unknown placeholder {{{placeholder}}} "
                f"(known: {', '.join('{' + p + '}' for p in TEMPLATE_PLACEHOLDERS)})"
            )
    return text


def _url(value: Any) -> str | None:
    if not value:
        return None
    text = _text(value)
    try:
        parse_url(text)
    except InvalidURL as error:
        raise ValueError(str(error)) from None
    return text


def _operator(value: Any) -> str:
    text = _text(value)
    if not text:
        raise ValueError("must not be empty")
    return text


CONVERT: dict[str, Convert] = {
    "registry_url": _url,
    "registry_auth_token": _optional(_secret),
    "registry_table": _table_name,
    "registry_columns": _columns,
    "tenant_url_template": _template,
    "turso_org": _optional(_text),
    "platform_api_token": _optional(_secret),
    "platform_url": _text,
    "group": _text,
    "data_dir": _path,
    "migrations_dir": _optional(_path),
    "sqld_admin_url": _optional(_text),
    "trash_days": _real(least=0),
    "read_only": _bool,
    "operator": _operator,
    "fleet_concurrency": _integer(1, 256),
    "timeout": _real(above=0),
    "console_row_cap": _integer(100),
    "console_timeout": _real(above=0),
    "token_command": _command,
    "token_command_timeout": _real(above=0),
    "group_auth_token": _optional(_secret),
    "minted_token_ttl": _ttl,
    "token_source": _token_source,
    "replicas": _choice("off", "on-demand", "always"),
}
"""How each setting's value is read and checked, in the order of `Settings`' fields."""

SETTING_NAMES = tuple(CONVERT)
"""Every setting's name (the TOML file's keys; the environment's after `TURSOTUI_`)."""


@dataclass
class Settings:
    """Everything tursotui can be told; see README for each setting's sources.

    Made by `load_settings` from every source; made directly (`Settings(data_dir=...)`)
    it holds what it is given and the defaults, checked the same way, and reads nothing.
    """

    registry_url: str | None = None
    """URL of the registry (metadata) database; default `file:<data dir>/registry.db`.

    Falls back to the app's own `TURSO_DATABASE_URL` when no tursotui source sets it.
    """

    registry_auth_token: Secret | None = field(default=None, repr=False)
    """Token of the registry database, if it needs one (falls back to `TURSO_AUTH_TOKEN`)."""

    registry_table: str = "organizations"
    """Name of the registry table."""

    registry_columns: dict[str, str] = field(default_factory=dict)
    """Which column holds which role (`url=tenantDbUrl,token=secretBlob`), over the names
    tursotui recognises by itself; an empty column (`token=`) means the registry has none."""

    tenant_url_template: str | None = None
    """URL of a tenant whose row has only a database name, e.g.
    `libsql://{db_name}-{org}.turso.io` (placeholders `{db_name}`, `{slug}`, `{org}`)."""

    turso_org: str | None = None
    """Turso organization slug for the Platform API (`TURSO_ORG`); unset means local
    provisioning."""

    platform_api_token: Secret | None = field(default=None, repr=False)
    """Turso Platform API token (`TURSO_PLATFORM_API_TOKEN`); unset means local provisioning."""

    platform_url: str = "https://api.turso.tech"
    """Base URL of the Turso Platform API."""

    group: str = "default"
    """Turso group that new tenant databases are created in."""

    data_dir: Path = field(default_factory=default_data_dir)
    """Where local tenants, SQL history and the audit log live."""

    migrations_dir: Path | None = None
    """The app's drizzle migrations folder; default the built-in one."""

    sqld_admin_url: str | None = None
    """Admin API of a self-hosted sqld (`http://host:9090`): `tenants usage` reads each
    remote tenant's figures from `/v1/namespaces/<first label of its host>/stats`."""

    trash_days: float = 7.0
    """Days a destroyed local tenant's file stays in `<data dir>/trash/` (for `tenants
    undelete`) before the next destroy or `tenants deleted` removes it for good."""

    read_only: bool = False
    """Refuse every write, everywhere."""

    operator: str = field(default_factory=_default_operator)
    """Name recorded in the audit log."""

    fleet_concurrency: int = 32
    """How many remote tenants are asked at once by the tenants and fleet screens (1–256).

    32 because a thousand tenants 100 ms away are then all asked within 5 s (at 16 the
    round trips alone take 6 s); local tenants are CPU work and go a thread per core."""

    timeout: float = 10.0
    """Seconds a remote call may take."""

    console_row_cap: int = 100_000
    """Most rows the SQL console loads into its grid for one result (export takes all)."""

    console_timeout: float = 300.0
    """Seconds a statement run in the SQL console may take on a remote tenant: analytic
    queries outlast `timeout`, which stays the limit for connecting and everything else."""

    token_command: str | None = None
    """A shell command that turns a tenant's stored token into the token to send.

    It reads the stored value on stdin and the slug from `TURSOTUI_TENANT_SLUG`, and
    prints the token on stdout (like a git credential helper); for encrypted registries.
    """

    token_command_timeout: float = 5.0
    """Seconds the token command may take for one tenant before it is killed."""

    group_auth_token: Secret | None = field(default=None, repr=False)
    """One token for every tenant of a Turso group, for tenants that store none."""

    minted_token_ttl: int = 3600
    """Lifetime of tokens minted through the Platform API: seconds, or `30m`, `1h`, `1d`."""

    token_source: Literal["command", "stored", "group", "mint"] | None = None
    """Pin where every tenant's token comes from; unset means the first source that applies."""

    replicas: Literal["off", "on-demand", "always"] = "on-demand"
    """Embedded replicas of remote tenants: `on-demand` reads a tenant from its replica when
    it has one (`tursotui replica sync`), `always` makes one when a remote tenant is first
    opened, `off` reads every tenant from its primary."""

    _registry_source: str = field(default="", repr=False, compare=False)

    def __post_init__(self) -> None:
        for name, convert in CONVERT.items():
            try:
                setattr(self, name, convert(getattr(self, name)))
            except ValueError as error:
                raise InvalidSetting(name, _redact(str(error))) from None

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


# -- reading the sources ----------------------------------------------------------------


def _gather(cli: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Each setting some source gives, and where from in words (for error messages).

    The precedence: CLI flag, environment, `.env` files, the TOML file, the app's own
    `TURSO_*` variables; a setting none of them gives keeps its default.
    """
    environ = {key.upper(): value for key, value in os.environ.items()}
    dotenv = _dotenv()
    toml_path, toml = _read_toml()
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name in SETTING_NAMES:
        names = _env_names(name)
        variable = FALLBACKS.get(name)
        if name in cli:
            values[name] = cli[name]
            sources[name] = f"command-line flag --{name.replace('_', '-')}"
        elif found := next((n for n in names if n in environ), None):
            values[name] = environ[found]
            sources[name] = f"environment variable {found}"
        elif found := next((n for n in names if n in dotenv), None):
            values[name], where = dotenv[found]
            sources[name] = f"{where} file ({found})"
        elif name in toml:
            values[name] = toml[name]
            sources[name] = f"config file {toml_path}"
        elif variable and os.environ.get(variable):
            values[name] = os.environ[variable]
            sources[name] = f"environment variable {variable}"
        elif variable and dotenv.get(variable, ("", ""))[0]:
            values[name], where = dotenv[variable]
            sources[name] = f"{where} file ({variable})"
    return values, sources


def setting_source(field_name: str, cli: dict[str, Any] | None = None) -> str:
    """Where the value of a setting comes from, in words (for error messages)."""
    return _gather(cli or {})[1].get(field_name, "the default")


def load_settings(**overrides: Any) -> Settings:
    """Build the settings; `overrides` are CLI flags (None means not given).

    Raises:
        SettingsError: one line naming the bad setting and its source.
    """
    given = {k: v for k, v in overrides.items() if v is not None}
    unknown = sorted(set(given) - set(SETTING_NAMES))
    if unknown:
        raise TypeError(f"load_settings() got unknown settings {unknown}")
    values, sources = _gather(given)
    try:
        settings = Settings(**values)
    except InvalidSetting as error:
        where = sources.get(error.name, "the default")
        raise SettingsError(f"setting {error.name} (from {where}): {error.reason}") from None
    template = settings.tenant_url_template
    if template and "{org}" in template and not settings.turso_org:
        where = sources.get("tenant_url_template", "the default")
        raise SettingsError(
            f"setting tenant_url_template (from {where}): uses {{org}} but TURSO_ORG is not set"
        )
    # The app's TURSO_AUTH_TOKEN belongs to the app's TURSO_DATABASE_URL: never send it
    # to a registry named by a tursotui setting.
    if (
        settings.registry_auth_token is not None
        and sources.get("registry_auth_token") in _fallback_sources("registry_auth_token")
        and sources.get("registry_url") not in _fallback_sources("registry_url")
    ):
        settings.registry_auth_token = None
    if settings.registry_url is not None:
        settings._registry_source = sources.get("registry_url", "settings")
    _check_token_source(settings, sources)
    return settings


def _check_token_source(settings: Settings, sources: dict[str, str]) -> None:
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
        where = sources.get("token_source", "the default")
        raise SettingsError(
            f"setting token_source (from {where}): {pinned!r} needs {needs[pinned][0]} set"
        )


def _fallback_sources(field_name: str) -> set[str]:
    variable = FALLBACKS[field_name]
    return {f"environment variable {variable}"} | {
        f"{name} file ({variable})" for name in DOTENV_FILES
    }
