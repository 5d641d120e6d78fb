"""The benchmarks' synthetic organisation. It lives in ``bot.demo_data`` (an installed module, which
`abacus demo` needs too); this name stays so `benchmarks.run` and its users keep working."""

from bot.demo_data import CLAUDE_MODELS, CURSOR_MODELS, Generated, generate

__all__ = ["CLAUDE_MODELS", "CURSOR_MODELS", "Generated", "generate"]
