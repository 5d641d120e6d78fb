"""The Cursor client against the fake Admin API over real HTTP, with a fake clock for every wait."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from providers.cursor.client import (
    BadEvent,
    CursorClient,
    cents_to_usd,
    org_id_for_key,
    parse_api_event,
    to_ms,
)
from providers.errors import AuthError, ProviderError, RateLimited
from providers.http import RetryPolicy
from providers.pacing import RatePacer
from tests.fakes.cursor_server import FakeClock, FakeCursorServer, api_event, running

KEY = "key_" + "a" * 64
T0 = datetime(2026, 11, 20, tzinfo=UTC)
T0_MS = to_ms(T0)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def server(clock: FakeClock) -> Iterator[FakeCursorServer]:
    with running(FakeCursorServer(clock=clock)) as srv:
        yield srv


def client_for(server: FakeCursorServer, clock: FakeClock, key: str = KEY, **kwargs: object) -> CursorClient:
    pacer = kwargs.pop("pacer", None) or RatePacer(20, 60.0, clock=clock, sleep=clock.sleep)
    return CursorClient(
        key,
        who="Cursor team test",
        base_url=server.base_url,
        pacer=pacer,  # type: ignore[arg-type]
        sleep=clock.sleep,
        **kwargs,  # type: ignore[arg-type]
    )


def test_events_are_paged_until_has_next_page_is_false(server: FakeCursorServer, clock: FakeClock) -> None:
    server.add_team(KEY, events=[api_event(T0_MS + i * 1000, "dev@example.com") for i in range(25)])
    with client_for(server, clock, page_size=10) as client:
        events = list(client.usage_events(T0, T0 + timedelta(days=1)))
    assert len(events) == 25
    assert len({e["timestamp"] for e in events}) == 25
    assert [b["page"] for b in server.event_requests()] == [1, 2, 3]
    assert all(b["pageSize"] == 10 and b["startDate"] == T0_MS for b in server.event_requests())


def test_basic_auth_with_the_wrong_key_is_an_auth_error_that_never_shows_the_key(
    server: FakeCursorServer, clock: FakeClock
) -> None:
    server.add_team(KEY)
    with client_for(server, clock, key="key_wrong") as client, pytest.raises(AuthError) as caught:
        list(client.usage_events(T0, T0 + timedelta(hours=1)))
    assert "401" in str(caught.value) and "key_wrong" not in str(caught.value)
    assert len(server.requests) == 1  # 401 is never retried


def test_the_window_end_is_exclusive_even_though_the_server_is_inclusive(
    server: FakeCursorServer, clock: FakeClock
) -> None:
    end = T0 + timedelta(hours=1)
    server.add_team(KEY, events=[api_event(T0_MS, "a@example.com"), api_event(to_ms(end), "b@example.com")])
    with client_for(server, clock) as client:
        events = list(client.usage_events(T0, end))
    assert [e["userEmail"] for e in events] == ["a@example.com"]


def test_ranges_longer_than_30_days_are_split(server: FakeCursorServer, clock: FakeClock) -> None:
    server.add_team(KEY, events=[api_event(T0_MS + d * 86_400_000, "a@example.com") for d in range(65)])
    with client_for(server, clock) as client:
        events = list(client.usage_events(T0, T0 + timedelta(days=65)))
    assert len(events) == 65
    spans = [(b["endDate"] - b["startDate"]) / 86_400_000 for b in server.event_requests()]
    assert spans == [30, 30, 5]


def test_members_accepts_the_wrapped_and_the_bare_shape(server: FakeCursorServer, clock: FakeClock) -> None:
    people = [
        {"id": 7, "name": "Dana", "email": "Dana@Example.com", "role": "owner", "isRemoved": False},
        {"name": "Old", "email": "old@example.com", "role": "member"},
    ]
    server.add_team(KEY, members=people)
    server.add_team("key_bare", members=people, bare_members=True)
    for key in (KEY, "key_bare"):
        with client_for(server, clock, key=key) as client:
            members = client.members()
        assert [(m.email, m.user_id, m.role) for m in members] == [
            ("dana@example.com", 7, "owner"),
            ("old@example.com", None, "member"),
        ]


def test_429_with_retry_after_waits_exactly_that_long(server: FakeCursorServer, clock: FakeClock) -> None:
    server.add_team(KEY, events=[api_event(T0_MS, "a@example.com")])
    server.fail_next(429, retry_after="7")
    with client_for(server, clock) as client:
        events = list(client.usage_events(T0, T0 + timedelta(hours=1)))
    assert len(events) == 1
    assert clock.sleeps == [7.0]


def test_429_without_retry_after_backs_off_exponentially_and_gives_up_bounded(
    server: FakeCursorServer, clock: FakeClock
) -> None:
    server.add_team(KEY)
    for _ in range(10):
        server.fail_next(429)
    policy = RetryPolicy(max_attempts=4, base_delay=1.0, max_delay=60.0, max_total_wait=300.0)
    with client_for(server, clock, policy=policy) as client, pytest.raises(RateLimited) as caught:
        list(client.usage_events(T0, T0 + timedelta(hours=1)))
    assert len(server.requests) == 4
    assert len(clock.sleeps) == 3
    # Full jitter within the doubling caps 1, 2, 4 seconds.
    assert all(0 <= s <= cap for s, cap in zip(clock.sleeps, (1, 2, 4), strict=True))
    assert "next run will retry" in str(caught.value)


def test_500s_are_retried_then_succeed(server: FakeCursorServer, clock: FakeClock) -> None:
    server.add_team(KEY, events=[api_event(T0_MS, "a@example.com")])
    server.fail_next(500)
    server.fail_next(500)
    with client_for(server, clock) as client:
        assert len(list(client.usage_events(T0, T0 + timedelta(hours=1)))) == 1
    assert len(server.requests) == 3


def test_persistent_500_is_a_provider_error(server: FakeCursorServer, clock: FakeClock) -> None:
    server.add_team(KEY)
    for _ in range(10):
        server.fail_next(500)
    policy = RetryPolicy(max_attempts=3, base_delay=0.5)
    with client_for(server, clock, policy=policy) as client, pytest.raises(ProviderError) as caught:
        list(client.usage_events(T0, T0 + timedelta(hours=1)))
    assert not isinstance(caught.value, RateLimited) and "500" in str(caught.value)


def test_the_pacer_keeps_a_busy_client_under_the_servers_limit(server: FakeCursorServer, clock: FakeClock) -> None:
    server.add_team(KEY, events=[api_event(T0_MS + i, "a@example.com") for i in range(45)])
    with client_for(server, clock, page_size=1) as client:
        assert len(list(client.usage_events(T0, T0 + timedelta(hours=1)))) == 45
    # 45 requests at 20/min: two full minutes of waiting on the fake clock, and not one 429 from the server.
    assert sum(clock.sleeps) == pytest.approx(120.0)
    assert len(server.requests) == 45


def test_without_pacing_the_server_rate_limits_and_backoff_alone_is_not_enough(
    server: FakeCursorServer, clock: FakeClock
) -> None:
    server.add_team(KEY, events=[api_event(T0_MS + i, "a@example.com") for i in range(25)])
    unpaced = RatePacer(1000, 60.0, clock=clock, sleep=clock.sleep)
    with client_for(server, clock, page_size=1, pacer=unpaced) as client, pytest.raises(RateLimited):
        list(client.usage_events(T0, T0 + timedelta(hours=1)))
    # 20 pages went through; the 21st met 429s for the whole (bounded) retry budget.
    assert len(server.requests) == 20 + 6 and len(clock.sleeps) == 5


def test_pacer_sliding_window() -> None:
    clock = FakeClock(start=0.0)
    pacer = RatePacer(3, 10.0, clock=clock, sleep=clock.sleep)
    waits = []
    for at in (0.0, 1.0, 2.0, 2.5, 12.0, 20.0):
        clock.now = max(clock.now, at)
        waits.append(pacer.wait())
    # The 4th request (t=2.5) waits until the 1st leaves the window at t=10. At t=12 the window holds the
    # requests of t=2 and t=10 only, so the 5th goes at once; so does the 6th at t=20 (t=10 and t=12 in it).
    assert waits == [0.0, 0.0, 0.0, pytest.approx(7.5), 0.0, 0.0]


def NO_MEMBERS(_user_id: int) -> str | None:
    return None


def test_event_mapping_prefers_charged_cents_and_renames_default() -> None:
    charged = parse_api_event(
        api_event(T0_MS, "A@x.com", "default", total_cents=20.18232, charged_cents=21.36232), NO_MEMBERS
    )
    assert not isinstance(charged, str)
    assert (charged.raw_model, charged.email, charged.cost_usd) == ("auto", "a@x.com", Decimal("0.213623"))
    request_based = parse_api_event(api_event(T0_MS, "a@x.com", tokens=None, charged_cents=8), NO_MEMBERS)
    assert not isinstance(request_based, str)
    assert request_based.tokens == (0, 0, 0, 0) and request_based.cost_usd == Decimal("0.08")
    total_only = parse_api_event(api_event(T0_MS, "a@x.com", total_cents=5), NO_MEMBERS)
    assert not isinstance(total_only, str) and total_only.cost_usd == Decimal("0.05")
    nothing = parse_api_event(api_event(T0_MS, "a@x.com", tokens=None, total_cents=None), NO_MEMBERS)
    assert not isinstance(nothing, str) and nothing.is_empty
    with pytest.raises(BadEvent, match="timestamp is missing"):
        parse_api_event({"userEmail": "a@x.com", "model": "gpt-5"}, NO_MEMBERS)
    no_email = {"timestamp": str(T0_MS), "userId": 7, "model": "gpt-5"}
    by_id = parse_api_event(no_email, {7: "seven@x.com"}.get)
    assert not isinstance(by_id, str) and by_id.email == "seven@x.com"


def test_cents_are_exact_decimal_dollars() -> None:
    assert cents_to_usd(20.18232) == Decimal("0.201823")
    assert cents_to_usd(8) == Decimal("0.08")
    assert cents_to_usd(None) is None and cents_to_usd("nan") is None


def test_org_ids_are_stable_labels_or_key_hashes() -> None:
    assert org_id_for_key(KEY, "acme") == "cursor:acme"
    hashed = org_id_for_key(KEY, None)
    assert hashed.startswith("cursor:") and len(hashed) == len("cursor:") + 12
    assert hashed == org_id_for_key(KEY, None) != org_id_for_key("key_other", None)
    assert KEY not in hashed
