"""Settings of the GitHub Copilot provider: one token, and the organisations or the enterprise it reads."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field, SecretStr

from providers.spec import BaseUrl, ProviderKey, ProviderSettings, secret_value

STATE_KEY = "copilot"
# A day's report is final three full UTC days after the day ends.
SETTLING_DAYS = 3


@dataclass(frozen=True, slots=True)
class Scope:
    """What one configured name reads: an organisation's or an enterprise's reports, under a stored org id."""

    name: str  # the organisation login or enterprise slug, as configured (what --org takes)
    enterprise: bool

    @property
    def path(self) -> str:
        return f"/enterprises/{self.name}" if self.enterprise else f"/orgs/{self.name}"

    @property
    def org_id(self) -> str:
        # Logins and slugs are case-insensitive on GitHub, so the stored id does not depend on how they were typed.
        kind = "enterprise:" if self.enterprise else ""
        return f"{STATE_KEY}:{kind}{self.name.lower()}"

    @property
    def title(self) -> str:
        return f"enterprise {self.name}" if self.enterprise else f"organisation {self.name}"


class CopilotSettings(ProviderSettings):
    copilot_token: SecretStr | None = Field(None, alias="COPILOT_TOKEN")
    # Comma-separated organisation logins whose Copilot usage reports are read.
    copilot_orgs: str | None = Field(None, alias="COPILOT_ORGS")
    # An enterprise slug: its reports cover every organisation in it, so it replaces COPILOT_ORGS when set.
    copilot_enterprise: str | None = Field(None, alias="COPILOT_ENTERPRISE")
    github_api_url: BaseUrl = Field("https://api.github.com", alias="GITHUB_API_URL")
    # A day's report is final three full UTC days after it; every run re-reads this many recent days.
    copilot_lookback_days: int = Field(4, ge=1, le=60, alias="ABACUS_COPILOT_LOOKBACK_DAYS")
    copilot_backfill_days_per_run: int = Field(60, ge=1, le=3660, alias="ABACUS_COPILOT_BACKFILL_DAYS_PER_RUN")
    schedule_copilot_sync_hours: int = Field(6, ge=1, le=168, alias="ABACUS_SCHEDULE_COPILOT_SYNC_HOURS")

    @property
    def scopes(self) -> list[Scope]:
        if not secret_value(self.copilot_token):
            return []
        enterprise = (self.copilot_enterprise or "").strip()
        if enterprise:
            return [Scope(enterprise, enterprise=True)]
        names = [part.strip() for part in (self.copilot_orgs or "").split(",") if part.strip()]
        unique = list(dict.fromkeys(names))
        return [Scope(name, enterprise=False) for name in unique]

    @property
    def keys(self) -> list[ProviderKey]:
        # One token reads every configured organisation; each is its own key so --org picks one.
        token = self.copilot_token
        if token is None:
            return []
        return [ProviderKey(scope.name, token, labelled=True) for scope in self.scopes]

    def scope(self, name: str) -> Scope:
        return next(s for s in self.scopes if s.name == name)
