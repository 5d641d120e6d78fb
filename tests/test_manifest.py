"""The Slack app manifest in the repo asks for what the app uses, and nothing it does not."""

from pathlib import Path

import yaml

MANIFEST = Path(__file__).resolve().parent.parent / "manifest.yml"


def test_manifest_declares_the_command_scopes_and_events_the_app_uses() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/abacus" and command["url"].endswith("/slack/events")
    assert command["should_escape"] is True  # mentions arrive as <@U123|name>, which the parser expects
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {
        "commands",
        "chat:write",
        "files:write",
        "im:write",
        "users:read",
        "users:read.email",
        "channels:read",
        "groups:read",
        "im:read",  # conversations.info in a DM
        "mpim:read",  # conversations.info in a group DM
        "usergroups:read",
    }
    assert manifest["settings"]["event_subscriptions"]["bot_events"] == ["app_home_opened"]
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
