import pytest

from bot.command_text import parse


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", {"command": "help"}),
        ("help", {"command": "help"}),
        ("me", {"command": "me", "period": None}),
        ("me 7d", {"command": "me", "period": "7d"}),
        ("ME Last-Month", {"command": "me", "period": "last-month"}),
        ("7d", {"command": "overview", "period": "7d"}),
        ("2026-10-01..2026-10-31", {"command": "overview", "period": "2026-10-01..2026-10-31"}),
        ("overview 30d cursor share", {"command": "overview", "period": "30d", "tool": "cursor", "share": True}),
        ("top", {"command": "top", "limit": None, "by": "cost"}),
        (
            "top 10 90d claude by tokens",
            {"command": "top", "limit": 10, "period": "90d", "tool": "claude_code", "by": "tokens"},
        ),
        ("top tokens cursor 5", {"command": "top", "limit": 5, "tool": "cursor", "by": "tokens"}),
        ("user <@U123ABC|dana> ytd", {"command": "user", "target_user_id": "U123ABC", "period": "ytd"}),
        ("user <mailto:Dana@Acme.com|Dana@Acme.com>", {"command": "user", "target_email": "dana@acme.com"}),
        ("user dana@acme.com", {"command": "user", "target_email": "dana@acme.com"}),
        ("models mtd anthropic", {"command": "models", "period": "mtd", "tool": "claude_code"}),
        ("gaps cursor", {"command": "gaps", "tool": "cursor"}),
        ("status", {"command": "status"}),
    ],
)
def test_understood(text: str, expected: dict[str, object]) -> None:
    request = parse(text)
    assert request.problems == ()
    for name, value in expected.items():
        assert getattr(request, name) == value


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("frobnicate", "I don't know `frobnicate`"),
        ("me yesterday", "I don't understand `yesterday`"),
        ("top 500", "between 1 and 50"),
        ("top by price", "`by` takes `cost` or `tokens`"),
        ("top 10 by", "`by` takes `cost` or `tokens`"),
        ("user", "Say whose usage"),
        ("gaps 7d", "I don't understand `7d`"),
        ("me 7d 30d", "I don't understand `30d`"),
    ],
)
def test_not_understood_is_explained(text: str, problem: str) -> None:
    request = parse(text)
    assert any(problem in p for p in request.problems), request.problems
