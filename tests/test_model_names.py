import pytest

from storage.model_names import normalize_model_name


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # Dated Anthropic names, in each of the original's shapes.
        ("claude-3-5-haiku-20241022", "haiku-3.5"),
        ("claude-3-5-sonnet-20241022", "sonnet-3.5"),
        ("claude-sonnet-4-20250514", "sonnet-4"),
        ("claude-opus-4-5-20251101", "opus-4.5"),
        ("claude-haiku-4-5-20251001", "haiku-4.5"),
        ("3-5-sonnet-20241022", "sonnet-3.5"),
        # The Analytics API's context-window suffix and thinking markers are stripped (one suffix only).
        ("claude-sonnet-4-5-20250929[1m]", "sonnet-4.5"),
        ("sonnet-4 (T)", "sonnet-4"),
        ("opus-4.5 (HT)", "opus-4.5"),
        ("claude-4-sonnet (Thinking)", "sonnet-4"),
        ("gpt-5 [a] [b]", "gpt-5 [a]"),
        # Cursor's reversed and thinking names.
        ("claude-4-sonnet", "sonnet-4"),
        ("claude-4.5-opus", "opus-4.5"),
        ("claude-4-sonnet-thinking", "sonnet-4"),
        ("claude-4.5-opus-high-thinking", "opus-4.5"),
        ("4-sonnet", "sonnet-4"),
        ("4.5-opus", "opus-4.5"),
        # Bare versions mean Sonnet.
        ("4", "sonnet-4"),
        ("4.5", "sonnet-4.5"),
        # Defaults.
        ("default", "(default)"),
        ("auto", "(default)"),
        ("Unknown", "(default)"),
        ("   ", "(default)"),
        ("", ""),
        (None, ""),
        # Everything else passes through lowercased and trimmed, exactly as the original does.
        ("GPT-4", "gpt-4"),
        ("  composer-1  ", "composer-1"),
        ("claude-sonnet-4-5", "claude-sonnet-4-5"),
        ("cursor-grok-4.5-high-fast", "cursor-grok-4.5-high-fast"),
    ],
)
def test_normalize_model_name(raw: str | None, expected: str) -> None:
    assert normalize_model_name(raw) == expected
