"""The Slack face of Abacus: the Bolt app, access control, command parsing and Block Kit answers."""
