"""The shared budget's bookkeeping (no Ray here): learning limits, pacing, and 429s.

Every test runs on a fake clock; a wait the budget hands out is read, never slept.
"""

from __future__ import annotations

import httpx
import pytest

from testkit import FakeClock
from tl_integrations._transport import Request
from tl_integrations.ray._budget import RateBook, RateFacts, _Holds, category_of, rate_facts


def book_with(
    limit: int, remaining: int | None = None, **kwargs: object
) -> tuple[RateBook, FakeClock]:
    clock = FakeClock(100.0)
    book = RateBook(clock=clock, **kwargs)  # type: ignore[arg-type]
    assert book.acquire("tasks", holding=False) == (0.0, True)
    book.settle("tasks", 200, RateFacts(limit=limit, remaining=remaining))
    return book, clock


def test_the_first_request_of_a_category_goes_alone_until_the_limit_is_known() -> None:
    clock = FakeClock(100.0)
    book = RateBook(clock=clock)
    assert book.acquire("tasks", holding=False) == (0.0, True)
    wait_s, held = book.acquire("tasks", holding=False)
    # It waits for what the first one learns, holding nothing.
    assert wait_s > 0
    assert not held
    book.settle("tasks", 200, RateFacts(limit=60, remaining=59))
    assert book.acquire("tasks", holding=False) == (0.0, True)
    assert book.snapshot()["tasks"]["limit"] == 60


def test_requests_beyond_what_is_left_are_queued_at_the_refill_rate() -> None:
    book, _ = book_with(limit=60, remaining=2)  # 60 a minute: one a second
    waits = [book.acquire("tasks", holding=False)[0] for _ in range(5)]
    assert waits == pytest.approx([0.0, 0.0, 1.0, 2.0, 3.0])


def test_the_refill_follows_the_clock_and_stops_at_the_limit() -> None:
    book, clock = book_with(limit=60, remaining=0)
    clock.now += 3.0
    assert [book.acquire("tasks", holding=False)[0] for _ in range(4)] == pytest.approx(
        [0.0, 0.0, 0.0, 1.0]
    )
    clock.now += 3600.0
    assert book.snapshot()["tasks"]["tokens"] == 60


def test_a_lower_remaining_from_the_server_wins_over_the_local_count() -> None:
    # Another program spends the same account: the server's count is the truth.
    book, _ = book_with(limit=600, remaining=600)
    book.acquire("tasks", holding=False)
    book.settle("tasks", 200, RateFacts(limit=600, remaining=0))
    assert book.acquire("tasks", holding=False)[0] == pytest.approx(0.1)  # 600/min: 0.1 s


def test_requests_granted_but_not_answered_are_not_counted_twice_as_room() -> None:
    book, _ = book_with(limit=60, remaining=3)
    for _ in range(3):
        book.acquire("tasks", holding=False)
    # One answer says 2 left, but two granted requests are still on their way.
    book.settle("tasks", 200, RateFacts(limit=60, remaining=2))
    assert book.acquire("tasks", holding=False)[0] == pytest.approx(1.0)


def test_a_429_holds_back_every_request_of_the_category_for_the_servers_wait() -> None:
    book, clock = book_with(limit=600, remaining=600)
    waiting = book.acquire("tasks", holding=False)
    assert waiting == (0.0, True)
    book.settle("tasks", 429, RateFacts(limit=600, remaining=0, wait_s=5.0))
    assert book.acquire("tasks", holding=True) == (5.0, True)  # one already granted
    assert book.acquire("tasks", holding=False)[0] >= 5.0  # and anyone new
    assert book.acquire("search", holding=False)[0] == 0.0  # other categories go on
    clock.now += 5.0
    assert book.acquire("tasks", holding=True) == (0.0, True)
    assert book.snapshot()["tasks"]["throttled"] == 1


def test_a_429_without_a_wait_backs_off_doubling() -> None:
    book, clock = book_with(limit=600)
    pauses = []
    for _ in range(3):
        book.settle("tasks", 429, RateFacts())
        pauses.append(book.acquire("tasks", holding=True)[0])
        clock.now += pauses[-1]
    assert pauses == pytest.approx([1.0, 2.0, 4.0])


def test_a_server_without_rate_headers_is_not_paced() -> None:
    clock = FakeClock(100.0)
    book = RateBook(clock=clock)
    book.acquire("default", holding=False)
    book.settle("default", 200, RateFacts())
    assert [book.acquire("default", holding=False)[0] for _ in range(100)] == [0.0] * 100


def test_a_lost_first_answer_lets_the_next_request_try() -> None:
    book = RateBook(clock=FakeClock(100.0))
    book.acquire("tasks", holding=False)
    book.settle("tasks", None, RateFacts())
    assert book.acquire("tasks", holding=False) == (0.0, True)


def test_limits_known_in_advance_pace_from_the_first_request() -> None:
    book = RateBook(clock=FakeClock(100.0), limits={"tasks": 60})
    waits = [book.acquire("tasks", holding=False)[0] for _ in range(62)]
    assert waits[:60] == [0.0] * 60
    assert waits[60:] == pytest.approx([1.0, 2.0])


def test_a_window_other_than_a_minute_sets_the_rate() -> None:
    book, _ = book_with(limit=10, remaining=0, window_s=1.0)
    assert book.acquire("tasks", holding=False)[0] == pytest.approx(0.1)


def test_bad_window_is_refused() -> None:
    with pytest.raises(ValueError, match="window_s"):
        RateBook(window_s=0.0)


@pytest.mark.parametrize(
    ("method", "path", "category"),
    [
        ("POST", "/tasks", "tasks"),
        ("POST", "/indexes/i1/indexed-assets", "tasks"),
        ("GET", "/indexes/i1/indexed-assets", "default"),
        ("POST", "/assets", "assets"),
        ("POST", "/embed-v2/tasks", "embed"),
        ("POST", "/embed", "embed"),
        ("POST", "/search", "search"),
        ("POST", "/analyze", "analyze"),
        ("GET", "/tasks/t1", "default"),
        ("POST", "/indexes", "default"),
    ],
)
def test_categories_follow_the_apis_grouping(method: str, path: str, category: str) -> None:
    assert category_of(Request(method, path)) == category


def test_presigned_storage_urls_are_not_the_apis_budget() -> None:
    assert category_of(Request("PUT", "https://bucket.s3/x?sig=1", presigned=True)) is None


def test_rate_facts_read_the_headers_on_the_servers_clock() -> None:
    headers = httpx.Headers(
        {
            "X-Ratelimit-Limit": "600",
            "X-Ratelimit-Remaining": "0",
            "X-Ratelimit-Reset": "1700000012",
            "Date": "Tue, 14 Nov 2023 22:13:20 GMT",  # 1700000000
        }
    )
    assert rate_facts(429, headers) == RateFacts(limit=600, remaining=0, wait_s=12.0)
    assert rate_facts(200, headers).wait_s is None  # Reset is a wait only on a 429
    assert rate_facts(429, {"Retry-After": "7"}).wait_s == 7.0
    assert rate_facts(None, None) == RateFacts()
    assert rate_facts(200, {"X-Ratelimit-Limit": "many"}).limit is None


def test_holds_are_per_request_object() -> None:
    holds = _Holds()
    first, twin = Request("GET", "/tasks"), Request("GET", "/tasks")
    holds.hold(first, True)
    assert holds.holding(first)
    assert not holds.holding(twin)  # equal, but another request
    holds.release(first)
    assert not holds.holding(first)
