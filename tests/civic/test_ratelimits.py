"""The shared rate limiter: rates, windows, the message and its atomicity."""

import pytest
import time_machine

from civic.ratelimits import Rate, RateLimited, rate_limit, retry_message
from tests.threads import run_at_once


@pytest.mark.parametrize(
    ("text", "count", "seconds"),
    [("30/h", 30, 3600), ("5/m", 5, 60), ("100/d", 100, 86400), ("10/15m", 10, 900), ("1/s", 1, 1)],
)
def test_rates_are_read_as_allauth_writes_them(text, count, seconds):
    """A rate is "<count>/<period>" with an optional multiple of s, m, h or d."""
    assert Rate.parse(text) == Rate(count=count, seconds=seconds)


@pytest.mark.parametrize("text", ["30", "30/w", "x/m", "5/0m", "5 / m", "20/min"])
def test_a_malformed_rate_is_refused_by_name(text):
    """A rate that is not "<count>/<period>" fails loudly, quoting itself."""
    with pytest.raises(ValueError, match=text.replace("/", ".")):
        Rate.parse(text)


def test_a_key_is_refused_after_its_count_until_the_window_ends(settings):
    """The 4th request in a "3/m" window is refused with the seconds left in the window;
    other keys and other scopes are counted apart; the next window starts afresh."""
    settings.RATE_LIMITS = {"vote": "3/m", "redeem": "3/m"}
    with time_machine.travel("2030-01-01 12:00:20Z", tick=False):
        for _ in range(3):
            rate_limit(scope="vote", key="user:1")
        with pytest.raises(RateLimited) as refused:
            rate_limit(scope="vote", key="user:1")
        assert refused.value.retry_after == 40
        assert refused.value.message == "Too many requests. Try again in 40 seconds."
        rate_limit(scope="vote", key="user:2")
        rate_limit(scope="redeem", key="user:1")
    with time_machine.travel("2030-01-01 12:01:00Z", tick=False):
        rate_limit(scope="vote", key="user:1")


@pytest.mark.parametrize(
    ("seconds", "message"),
    [
        (1, "Too many requests. Try again in 1 second."),
        (59, "Too many requests. Try again in 59 seconds."),
        (61, "Too many requests. Try again in 2 minutes."),
        (3600, "Too many requests. Try again after 16:00."),
    ],
)
def test_the_message_says_when_to_try_again(seconds, message):
    """Seconds under a minute, whole minutes under an hour, else the local time of day."""
    with time_machine.travel("2030-01-01 12:00:00Z", tick=False):  # 15:00 in Moscow
        assert retry_message(seconds) == message


def test_parallel_requests_cannot_overrun_the_limit(settings):
    """20 threads, 5 requests each, against "30/h": exactly 30 pass, 70 are refused."""
    settings.RATE_LIMITS = {"vote": "30/h"}
    passed, refused = [], []

    def hammer():
        for _ in range(5):
            try:
                rate_limit(scope="vote", key="user:7")
                passed.append(1)
            except RateLimited:
                refused.append(1)

    with time_machine.travel("2030-01-01 12:00:00Z", tick=False):  # no window edge mid-test
        run_at_once([hammer] * 20)
    assert (len(passed), len(refused)) == (30, 70)


def test_with_redis_unreachable_requests_go_through_and_are_logged(settings, caplog):
    """Fail open: an outage of the cache must not stop residents voting."""
    settings.RATE_LIMITS = {"vote": "1/h"}
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2},
        }
    }
    for _ in range(3):
        rate_limit(scope="vote", key="user:1")
    assert "rate limit not counted: Redis unreachable" in caplog.text
