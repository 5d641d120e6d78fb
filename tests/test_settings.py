from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.settings import Settings
from providers.anthropic import SPEC as ANTHROPIC
from providers.cursor import SPEC as CURSOR
from providers.spec import parse_provider_keys


def test_defaults_need_nothing_configured() -> None:
    s = Settings()
    assert s.database_url == "sqlite:///abacus.db"
    assert s.slack_api_url == "https://slack.com/api/"
    assert s.provider(ANTHROPIC).anthropic_base_url == "https://api.anthropic.com"
    assert s.provider(CURSOR).cursor_base_url == "https://api.cursor.com"
    assert s.timezone == "UTC"
    assert s.email_domains == [] and s.admins == []
    assert s.keys_of(ANTHROPIC) == [] and s.keys_of(CURSOR) == []
    assert s.configured() == []


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("DATABASE_URL", "postgres://u:p@db:5432/abacus", "postgresql+psycopg://u:p@db:5432/abacus"),
        ("DATABASE_URL", "postgresql://u@db/abacus", "postgresql+psycopg://u@db/abacus"),
        ("POSTGRES_URL", "postgres://u@db/abacus", "postgresql+psycopg://u@db/abacus"),
        ("DATABASE_URL", "sqlite:////var/lib/abacus.db", "sqlite:////var/lib/abacus.db"),
    ],
)
def test_database_url_aliases_and_driver(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    assert Settings().database_url == expected


def test_database_url_wins_over_postgres_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTGRES_URL", "postgres://a/alias")
    monkeypatch.setenv("DATABASE_URL", "postgres://a/primary")
    assert Settings().database_url.endswith("/primary")


def test_lists_are_comma_separated_and_normalised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ABACUS_EMAIL_DOMAINS", " Example.COM, @corp.io ,,")
    monkeypatch.setenv("ABACUS_ADMINS", "Dana@Example.com,bob@example.com")
    s = Settings()
    assert s.email_domains == ["example.com", "corp.io"]
    assert s.admins == ["dana@example.com", "bob@example.com"]


def test_base_urls_are_normalised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9000/api")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9001/")
    s = Settings()
    assert s.slack_api_url == "http://127.0.0.1:9000/api/"
    assert s.provider(ANTHROPIC).anthropic_base_url == "http://127.0.0.1:9001"


def test_unknown_timezone_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ABACUS_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ValidationError, match="unknown timezone"):
        Settings()


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("ABACUS_TIMEZONE=Europe/Vienna\nCURSOR_ADMIN_KEY=key_abc\n")
    s = Settings()
    assert s.timezone == "Europe/Vienna"
    assert [k.name for k in s.keys_of(CURSOR)] == ["default"]


def test_environment_wins_over_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("ABACUS_TIMEZONE=Europe/Vienna\n")
    monkeypatch.setenv("ABACUS_TIMEZONE", "Asia/Tokyo")
    assert Settings().timezone == "Asia/Tokyo"


def test_plural_keys_win_and_are_named_by_position(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_ADMIN_KEY", "sk-ant-admin01-single")
    monkeypatch.setenv("ANTHROPIC_ADMIN_KEYS", "sk-ant-admin01-a, ,sk-ant-admin01-b,")
    keys = Settings().keys_of(ANTHROPIC)
    assert [(k.name, k.key.get_secret_value()) for k in keys] == [
        ("KEY_1", "sk-ant-admin01-a"),
        ("KEY_2", "sk-ant-admin01-b"),
    ]


@pytest.mark.parametrize(
    ("plural", "singular", "expected"),
    [
        (None, "k1", [("default", "k1", False)]),
        ("k1", None, [("default", "k1", False)]),
        (" , ", "k1", [("default", "k1", False)]),
        ("", "", []),
        (" , ", None, []),
        ("prod=key_a,labs=key_b", None, [("prod", "key_a", True), ("labs", "key_b", True)]),
        ("prod=key_a,key_b", None, [("prod", "key_a", True), ("KEY_2", "key_b", False)]),
    ],
)
def test_parse_provider_keys(plural: str | None, singular: str | None, expected: list[tuple[str, str, bool]]) -> None:
    keys = parse_provider_keys(plural, singular)
    assert [(k.name, k.key.get_secret_value(), k.labelled) for k in keys] == expected


def test_secrets_do_not_leak_through_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-very-secret")
    monkeypatch.setenv("CURSOR_ADMIN_KEYS", "team=key_secret_value")
    s = Settings()
    assert "xoxb-very-secret" not in repr(s)
    assert "key_secret_value" not in repr(s.keys_of(CURSOR))
    assert "key_secret_value" not in repr(s.provider(CURSOR))


def test_provider_settings_given_by_name_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CURSOR_BASE_URL", "http://from-env")
    monkeypatch.setenv("ABACUS_CURSOR_PAGE_SIZE", "50")
    s = Settings(CURSOR_BASE_URL="http://given/")
    assert s.provider(CURSOR).cursor_base_url == "http://given"
    assert s.provider(CURSOR).cursor_page_size == 50


def test_an_invalid_provider_setting_is_refused_with_its_variable_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ABACUS_CURSOR_PAGE_SIZE", "0")
    with pytest.raises(ValidationError, match="ABACUS_CURSOR_PAGE_SIZE"):
        Settings()
