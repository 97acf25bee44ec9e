"""Settings: CLI > env > .env/.env.local > TOML > defaults; fallbacks; errors."""

from __future__ import annotations

import dataclasses
import getpass
import os
from pathlib import Path

import pytest

from support.secrets_watch import CANARY
from tursotui.session.settings import SettingsError, load_settings

TOKEN = f"{CANARY}-registry-token"


def write_toml(text: str) -> Path:
    path = Path(os.environ["TURSOTUI_CONFIG_FILE"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_put_everything_in_the_data_dir(isolated_env: Path) -> None:
    settings = load_settings()
    assert settings.data_dir == isolated_env / "data"
    assert settings.registry_location == f"file:{isolated_env / 'data' / 'registry.db'}"
    assert settings.owns_registry
    assert settings.registry_table == "organizations"
    assert settings.platform_url == "https://api.turso.tech"
    assert settings.group == "default"
    assert settings.migrations_dir is None
    assert not settings.read_only
    assert not settings.uses_platform_api


def test_operator_defaults_to_the_os_user(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TURSOTUI_OPERATOR")
    assert load_settings().operator == getpass.getuser()


def test_each_source_overrides_the_ones_below_it(monkeypatch: pytest.MonkeyPatch) -> None:
    write_toml('group = "from-toml"\ntimeout = 3.0\nregistry_table = "tenants_toml"\n')
    assert load_settings().group == "from-toml"
    Path(".env").write_text("TURSOTUI_GROUP=from-dotenv\nTURSOTUI_TIMEOUT=4\n")
    assert load_settings().group == "from-dotenv"
    Path(".env.local").write_text("TURSOTUI_GROUP=from-dotenv-local\n")
    assert load_settings().group == "from-dotenv-local"
    monkeypatch.setenv("TURSOTUI_GROUP", "from-env")
    assert load_settings().group == "from-env"
    settings = load_settings(group="from-cli")
    assert settings.group == "from-cli"
    # what no higher source set still comes from below
    assert settings.timeout == 4.0
    assert settings.registry_table == "tenants_toml"


def test_read_only_from_env_and_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings(read_only=None).read_only is False  # a flag not given
    assert load_settings(read_only=True).read_only is True
    monkeypatch.setenv("TURSOTUI_READ_ONLY", "1")
    assert load_settings().read_only is True


def test_the_apps_own_variables_find_the_registry_from_dotenv() -> None:
    """Running tursotui inside the app's project just works."""
    Path(".env").write_text(
        f"TURSO_DATABASE_URL=libsql://meta-acme.turso.io\nTURSO_AUTH_TOKEN={TOKEN}\n"
        "UNRELATED_APP_SETTING=whatever\n"
    )
    settings = load_settings()
    assert settings.registry_location == "libsql://meta-acme.turso.io"
    assert not settings.owns_registry
    assert settings.registry_auth_token is not None
    assert settings.registry_auth_token.get_secret_value() == TOKEN
    assert TOKEN not in repr(settings)


def test_tursotui_names_beat_the_apps_fallback_even_from_toml(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TURSO_DATABASE_URL", "libsql://app-db.turso.io")
    monkeypatch.setenv("TURSO_AUTH_TOKEN", TOKEN)
    write_toml('registry_url = "http://127.0.0.1:8080"\n')
    settings = load_settings()
    assert settings.registry_location == "http://127.0.0.1:8080"
    # the app's token belongs to the app's database: never sent to another registry
    assert settings.registry_auth_token is None


def test_tursotui_env_beats_the_apps_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TURSO_DATABASE_URL", "libsql://app-db.turso.io")
    monkeypatch.setenv("TURSOTUI_REGISTRY_URL", "https://registry.example.com")
    monkeypatch.setenv("TURSOTUI_REGISTRY_AUTH_TOKEN", TOKEN)
    settings = load_settings()
    assert settings.registry_location == "https://registry.example.com"
    assert settings.registry_auth_token.get_secret_value() == TOKEN


def test_platform_api_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TURSO_ORG", "acme")
    assert not load_settings().uses_platform_api
    monkeypatch.setenv("TURSO_PLATFORM_API_TOKEN", TOKEN)
    settings = load_settings()
    assert settings.uses_platform_api
    assert TOKEN not in repr(settings) and TOKEN not in str(dataclasses.asdict(settings))


@pytest.mark.parametrize(
    ("setup", "source"),
    [
        (
            lambda mp: mp.setenv("TURSOTUI_REGISTRY_URL", "ftp://x"),
            "environment variable TURSOTUI_REGISTRY_URL",
        ),
        (lambda mp: Path(".env").write_text("TURSOTUI_REGISTRY_URL=ftp://x\n"), ".env file"),
        (
            lambda mp: Path(".env.local").write_text("TURSOTUI_REGISTRY_URL=ftp://x\n"),
            ".env.local file",
        ),
        (lambda mp: write_toml('registry_url = "ftp://x"\n'), "config file "),
        (
            lambda mp: mp.setenv("TURSO_DATABASE_URL", "ftp://x"),
            "environment variable TURSO_DATABASE_URL",
        ),
    ],
)
def test_a_bad_url_names_the_setting_and_its_source(
    monkeypatch: pytest.MonkeyPatch, setup, source: str
) -> None:
    setup(monkeypatch)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("setting registry_url (from ")
    assert source in message
    assert "unknown scheme 'ftp'" in message


def test_a_bad_toml_value_names_the_file(isolated_env: Path) -> None:
    path = write_toml("fleet_concurrency = 0\n")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value).startswith(f"setting fleet_concurrency (from config file {path})")


def test_a_bad_cli_value_names_the_flag() -> None:
    with pytest.raises(
        SettingsError, match=r"setting timeout \(from command-line flag --timeout\)"
    ):
        load_settings(timeout=-1)


def test_a_bad_boolean_in_env_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TURSOTUI_READ_ONLY", "perhaps")
    with pytest.raises(SettingsError, match="environment variable TURSOTUI_READ_ONLY"):
        load_settings()


def test_unknown_and_unparsable_toml_name_the_file() -> None:
    path = write_toml('registry_urll = "file:x.db"\n')
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value).startswith(f"config file {path}: unknown setting 'registry_urll'")
    write_toml("registry_url = \n")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings()


def test_a_bad_table_name_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TURSOTUI_REGISTRY_TABLE", "orgs; drop table x")
    with pytest.raises(SettingsError, match=r"TURSOTUI_REGISTRY_TABLE.*plain table name"):
        load_settings()


def test_a_token_in_a_bad_url_is_not_repeated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TURSOTUI_REGISTRY_URL", f"gopher://db.example.com?authToken={TOKEN}")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert TOKEN not in str(caught.value)
    assert "authToken=•••" in str(caught.value)


def test_a_home_relative_data_dir_is_expanded(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_toml('data_dir = "~/fleet"\nmigrations_dir = "~/app/drizzle"\n')
    monkeypatch.delenv("TURSOTUI_DATA_DIR")
    settings = load_settings()
    assert settings.data_dir == isolated_env / "home" / "fleet"
    assert settings.migrations_dir == isolated_env / "home" / "app" / "drizzle"


def test_a_config_file_named_by_the_environment_must_exist(tmp_path: Path, monkeypatch) -> None:
    missing = tmp_path / "typo.toml"
    monkeypatch.setenv("TURSOTUI_CONFIG_FILE", str(missing))
    with pytest.raises(SettingsError) as raised:
        load_settings()
    message = str(raised.value)
    assert str(missing) in message and "TURSOTUI_CONFIG_FILE" in message
    assert "does not exist" in message
    monkeypatch.setenv("TURSOTUI_CONFIG_FILE", str(tmp_path))  # a directory
    with pytest.raises(SettingsError, match="is not a file"):
        load_settings()
    # The default file in the config dir may well be absent: no settings, no error.
    monkeypatch.delenv("TURSOTUI_CONFIG_FILE")
    assert load_settings().registry_table == "organizations"


def test_the_registry_says_where_it_came_from(isolated_env: Path, monkeypatch) -> None:
    assert load_settings().registry_origin.startswith("the default")
    path = write_toml('registry_url = "file:from-toml.db"\n')
    assert load_settings().registry_origin == f"config file {path}"
    Path(".env.local").write_text("TURSO_DATABASE_URL=file:app.db\n")
    write_toml("")
    assert load_settings().registry_origin == ".env.local file (TURSO_DATABASE_URL)"
    monkeypatch.setenv("TURSOTUI_REGISTRY_URL", "file:env.db")
    settings = load_settings()
    assert settings.registry_location == "file:env.db"
    assert settings.registry_origin == "environment variable TURSOTUI_REGISTRY_URL"


def test_a_bad_value_is_named_but_a_token_never_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TURSOTUI_FLEET_CONCURRENCY", "0")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value) == (
        "setting fleet_concurrency (from environment variable TURSOTUI_FLEET_CONCURRENCY): "
        "must be from 1 to 256, not 0"
    )
    monkeypatch.delenv("TURSOTUI_FLEET_CONCURRENCY")
    path = write_toml("platform_api_token = 4242424242\n")  # a number where a token goes
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value) == (
        f"setting platform_api_token (from config file {path}): must be text, not int"
    )
    assert "4242424242" not in str(caught.value)
    monkeypatch.setenv("TURSOTUI_REPLICAS", "sometimes")
    write_toml("")
    with pytest.raises(
        SettingsError, match="must be one of off, on-demand, always, not 'sometimes'"
    ):
        load_settings()
