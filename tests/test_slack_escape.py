"""The one escaping helper for outside text in mrkdwn, the length limits, and the pure builders that use them."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from bot.answers.blocks import context, cut, escape, fit, header, plain, section
from bot.answers.mapping import key_id, key_option, key_value, legacy_key_value, map_modal
from bot.answers.plain_text import blocks_to_text, notification_text
from bot.command_text import parse
from storage.mappings import UnmappedKey

UNSAFE = re.compile(r"<[!@#]|<http|&(?!(?:amp|lt|gt);)")


def test_escape_turns_slack_markup_into_entities() -> None:
    assert escape("<!channel>") == "&lt;!channel&gt;"
    assert escape("<@U123>") == "&lt;@U123&gt;"
    assert escape("<https://evil|label>") == "&lt;https://evil|label&gt;"
    assert escape("a & b") == "a &amp; b"
    assert escape("&amp;") == "&amp;amp;"  # an entity in a name is a name: shown as typed
    assert escape("<#C123|general> <!subteam^S1>") == "&lt;#C123|general&gt; &lt;!subteam^S1&gt;"


def test_escape_leaves_ordinary_names_alone() -> None:
    for name in ("dana.o_brien+ai@acme.com", "first_last@acme.co.uk", "claude-sonnet-4.5", "deploy-bot", "Zoë"):
        assert escape(name) == name


def test_escape_keeps_a_name_on_one_line_and_caps_its_length() -> None:
    assert escape("one\ntwo\r\n\tthree") == "one two three"
    long = "word " * 100
    shown = escape(long)
    assert len(shown) <= 200 and shown.endswith("word…")
    assert escape(long, limit=1_000) == long
    hostile = "<!here>&" * 100
    assert not UNSAFE.search(escape(hostile))


def test_cut_ends_at_a_word_and_never_inside_an_entity() -> None:
    assert cut("alpha beta gamma", 12) == "alpha beta"
    assert cut("alpha beta", 50) == "alpha beta"
    assert cut("x" * 10 + "&amp;", 12) == "x" * 10  # one long word: cut, but not into "&a"
    assert cut("x" * 10 + "&lt;y", 13) == "x" * 10


def test_fit_keeps_whole_lines_and_says_how_many_more() -> None:
    lines = [f"{n}. someone{n}@acme.com &amp; more words here" for n in range(200)]
    text = fit("\n".join(lines))
    assert len(text) <= 3_000
    kept = text.split("\n")[:-1]
    assert kept == lines[: len(kept)]
    assert text.endswith(f"…and {200 - len(kept)} more lines")
    assert fit("short") == "short"


def test_fit_cuts_one_long_line_at_a_word() -> None:
    text = fit(("&lt;!here&gt; word " * 300) + "\nsecond line")
    assert len(text) <= 3_000 and not UNSAFE.search(text)
    assert re.search(r"(word|&gt;) …and \d+ more words and 1 more line$", text)


def test_blocks_stay_within_slacks_limits() -> None:
    assert len(header("Team " + "verylongname " * 30)["text"]["text"]) <= 150
    assert header("a\nb")["text"]["text"] == "a b"
    assert header("Team " + "verylongname " * 30)["text"]["text"].endswith("verylongname…")
    assert len(section("x " * 4_000)["text"]["text"]) <= 3_000
    assert len(context("x\n" * 4_000)["elements"][0]["text"]) <= 3_000


def test_plain_is_one_line_within_the_limit() -> None:
    assert plain("a\nb", 10) == "a b"
    assert len(plain("word " * 40, 75)) <= 75


def test_the_text_fallback_stays_escaped_and_the_terminal_shows_characters() -> None:
    blocks = [header("Team <!channel> & co"), section(f"{escape('<@U1>')} spent *$5* &amp; {escape('a&b')}")]
    note = notification_text(blocks)
    assert not UNSAFE.search(note)
    assert note.startswith("Team &lt;!channel&gt; &amp; co")
    terminal = blocks_to_text(blocks)
    assert "TEAM <!CHANNEL> & CO" in terminal and "<@U1> spent $5" in terminal and "a&b" in terminal


def _key(name: str, cost: str = "1") -> UnmappedKey:
    return UnmappedKey("org-1", name, 1, 100, Decimal(cost), date(2026, 11, 1), date(2026, 11, 2))


def test_a_key_option_carries_a_short_stable_id_never_the_name() -> None:
    name = "<!channel> " + "k" * 2_990
    option = key_option(_key(name))
    assert option["value"] == key_id("org-1", name) == key_value(_key(name))
    assert len(option["value"]) == 25 and "<" not in option["value"]
    assert key_id("org-1", name) != key_id("org-2", name)
    assert len(option["text"]["text"]) <= 75 and option["text"]["text"].endswith(" · $1.00")
    assert len(option["description"]["text"]) <= 75
    assert legacy_key_value('["org-1","deploy-bot"]') == ("org-1", "deploy-bot")
    assert legacy_key_value(option["value"]) is None


def test_the_map_modal_lists_hostile_and_long_keys_as_data() -> None:
    keys = [_key("<!channel> & <@U999|boss>", "9"), *(_key(f"{n} " + "<!here>&word " * 250) for n in range(20))]
    view = map_modal(keys)
    listing = view["blocks"][0]["text"]["text"]
    assert len(listing) <= 3_000 and not UNSAFE.search(listing)
    assert "`&lt;!channel&gt; &amp; &lt;@U999|boss&gt;`" in listing
    assert "…and 13 more (type to search)." in listing
    assert len(view["blocks"][1]["element"]["initial_option"]["value"]) <= 150


def test_typed_entities_are_read_as_the_characters_slack_escaped() -> None:
    request = parse("map a&amp;b&lt;c&gt; <@UBOB|bob>")
    assert (request.key, request.target_user_id) == ("a&b<c>", "UBOB")
    assert parse("user <mailto:q&a@acme.com|q&amp;a@acme.com>").command == "user"
