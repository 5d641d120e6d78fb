"""GitHub Copilot, from the Copilot usage metrics reports: per person and day, credits, activity and CLI tokens.

Copilot measures differently from the token-billed tools. Its cost is **AI credits** (1 credit = $0.01 at list
price; included credits are pooled per billing entity, so this is list value, not what was invoiced), and it
reports **no tokens** except Copilot CLI's. So its usage rows carry the credits' dollars and only real token
counts, and its tool says so (``Tool.unit``): answers that compare tools by tokens leave it out
of the comparison and say why, instead of showing Copilot as nearly unused.

People are GitHub logins (the reports carry no email): mapped to company emails where the seats list gives
one or an admin mapped them (`abacus mappings set LOGIN EMAIL --provider copilot`), else kept under the
login as unattributed usage, listed by `abacus mappings`.
"""

from __future__ import annotations

from datetime import timedelta

from providers.copilot.settings import SETTLING_DAYS, STATE_KEY, CopilotSettings
from providers.spec import ProviderSpec, Tool, lazy
from storage.analytics.freshness import FreshnessRule

COPILOT = Tool(
    id="copilot",
    title="GitHub Copilot",
    short="copilot",
    aliases=("github-copilot", "github_copilot", "gh-copilot"),
    color="#8B5CF6",
    unit="AI credits",
    identity="GitHub login",
    measure=(
        "cost is AI credits at list value ($0.01 each; included credits are pooled, so not the invoice), "
        "and its tokens are Copilot CLI's only"
    ),
)


SPEC = ProviderSpec(
    id="copilot",
    title="GitHub Copilot",
    tool=COPILOT,
    aliases=("github-copilot", "github_copilot", "gh-copilot"),
    state_key=STATE_KEY,
    org_prefix=f"{STATE_KEY}:",
    settings=CopilotSettings,
    key_settings="COPILOT_TOKEN with COPILOT_ORGS or COPILOT_ENTERPRISE",
    key_hint="a GitHub token that reads Copilot usage metrics in COPILOT_TOKEN, and COPILOT_ORGS or COPILOT_ENTERPRISE",
    # A day's report exists within two full UTC days and is final within three.
    freshness=FreshnessRule(max_complete_day_lag=SETTLING_DAYS + 1, max_success_age=timedelta(hours=25)),
    sync_every=lambda s: timedelta(hours=s.schedule_copilot_sync_hours),
    sync=lazy("providers.copilot.jobs", "sync"),
    backfill=lazy("providers.copilot.jobs", "backfill"),
    org_ids=lazy("providers.copilot.jobs", "org_ids"),
    probe=lazy("providers.copilot.jobs", "probe"),
    secret_patterns=(r"gh[pousr]_[A-Za-z0-9]{16,}", r"github_pat_[A-Za-z0-9_]{20,}"),
    backfill_takes_newest=True,
    demo=lazy("providers.copilot.demo", "generate"),
    activity=lazy("providers.copilot.activity", "activity"),
    notes=(
        "Copilot's cost is AI credits at list value ($0.01 each): included credits are pooled, "
        "so it is not the invoice.",
        "Copilot reports no tokens except Copilot CLI's: token totals and token comparisons leave the rest out.",
        "GitHub.com chat, mobile and IDEs with telemetry off are not in the reports; reports start 2025-12-12 "
        "(organisations) or 2025-10-10 (enterprises).",
        "With COPILOT_ENTERPRISE set, COPILOT_ORGS is not read: the enterprise's reports already cover its "
        "organisations.",
    ),
)
