"""Rate limits shared by the pages and the API, counted in the Redis cache.

``settings.RATE_LIMITS`` maps a scope to a rate, ``"<count>/<period>"``: ``"30/h"``,
``"5/m"``, ``"100/d"``, ``"10/15m"`` (units s, m, h, d: the syntax of allauth's
``ACCOUNT_RATE_LIMITS``, so a rate can be handed to allauth as it is).
A caller asks before doing the work::

    rate_limit(scope="vote", key=user_key(request.user))

and gets ``RateLimited`` once the key is over its rate. Pages show it as a 429 page
(``RateLimitMiddleware``), the API as a 429 JSON ``{"code": "throttled", "detail": ...}``
with ``Retry-After`` (``civic.api.exception_handler``), so both say the same thing.

The counter is a fixed window: one Redis key per scope, key and window, increased with
INCR and given the window's end as its expiry in one MULTI/EXEC pipeline - one round trip,
atomic, so parallel requests cannot overrun it. A refused request counts too (a client
hammering the endpoint stays refused until the window ends, never longer). At a window's
edge a client may get up to twice the count within one period; the rates are set with that
in mind. If Redis cannot be reached the request is let through (and logged): Redis being
down never refuses a vote. It can still slow one: a refused connection fails at once,
but one that hangs holds each limited request for up to the cache's connect or read timeout
(2 s, ``CACHES`` in civic/settings.py) before it is let through.
"""

import logging
import math
import re
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from redis.exceptions import RedisError
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger(__name__)

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
RATE_PATTERN = re.compile(r"^(\d+)/(\d*)([smhd])$")


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> "Rate":
        match = RATE_PATTERN.match(text)
        if match is None or int(match[2] or 1) == 0:
            raise ValueError(f"Not a rate: {text!r} (write it as 30/h, 5/m, 100/d, 10/15m)")
        return cls(count=int(match[1]), seconds=int(match[2] or 1) * UNITS[match[3]])


class RateLimited(Exception):
    """Too many requests: ``message`` says when to try again, ``retry_after`` in seconds."""

    def __init__(self, *, scope: str, retry_after: int):
        self.scope = scope
        self.retry_after = retry_after
        self.message = retry_message(retry_after)
        super().__init__(self.message)


def retry_message(seconds: int) -> str:
    """The refusal: "Too many requests. Try again in 40 seconds" (or "in 5 minutes",
    or "after 14:00" for a wait of an hour or more)."""
    if seconds < 60:
        wait = ngettext("in %(count)d second", "in %(count)d seconds", seconds) % {"count": seconds}
    elif seconds < 3600:
        minutes = math.ceil(seconds / 60)
        wait = ngettext("in %(count)d minute", "in %(count)d minutes", minutes) % {"count": minutes}
    else:
        at = timezone.localtime(timezone.now() + timedelta(seconds=seconds))
        wait = gettext("after %(time)s") % {"time": at.strftime("%H:%M")}
    return gettext("Too many requests. Try again %(wait)s.") % {"wait": wait}


def rate_limit(*, scope: str, key: str) -> None:
    """Count one request of ``key`` in ``scope``; raise ``RateLimited`` if it is over the
    scope's rate (``settings.RATE_LIMITS[scope]``). One Redis round trip."""
    rate = Rate.parse(settings.RATE_LIMITS[scope])
    now = time.time()
    window = int(now // rate.seconds)
    window_end = (window + 1) * rate.seconds
    cache_key = cache.make_and_validate_key(f"ratelimit:{scope}:{key}:{window}")
    # Django's cache API has no atomic "increment or create"; the Redis client has.
    try:
        client = cache._cache.get_client(cache_key, write=True)
        with client.pipeline(transaction=True) as pipe:
            pipe.incr(cache_key)
            pipe.expireat(cache_key, window_end + 1)
            count, _ = pipe.execute()
    except RedisError:
        # Fail open: a Redis outage must not stop residents voting.
        logger.warning("rate limit not counted: Redis unreachable", extra={"scope": scope})
        return
    if count > rate.count:
        raise RateLimited(scope=scope, retry_after=max(1, math.ceil(window_end - now)))


def user_key(user) -> str:
    return f"user:{user.pk}"


def ip_key(request: HttpRequest) -> str:
    """The client's address as allauth sees it (ALLAUTH_TRUSTED_PROXY_COUNT behind a proxy),
    so our limits and allauth's count the same clients."""
    from allauth.account.adapter import get_adapter

    return f"ip:{get_adapter(request).get_client_ip(request)}"


def request_key(request: HttpRequest) -> str:
    """The signed-in resident, or the address of an anonymous client."""
    return user_key(request.user) if request.user.is_authenticated else ip_key(request)


def too_many_requests(request: HttpRequest, limited: RateLimited) -> HttpResponse:
    """The 429 page: the message in the site's layout, and when to retry."""
    response = render(request, "429.html", {"message": limited.message}, status=429)
    response["Retry-After"] = str(limited.retry_after)
    return response


class RateLimitMiddleware:
    """Turns a ``RateLimited`` raised by a page view into the 429 page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if isinstance(exception, RateLimited):
            return too_many_requests(request, exception)
        return None


class ScopedRateLimit(BaseThrottle):
    """DRF throttle for views with a ``throttle_scope`` in ``RATE_LIMITS``: the same counter
    and message as the pages (the resident's, or the address's when signed out)."""

    def allow_request(self, request, view) -> bool:
        scope = getattr(view, "throttle_scope", None)
        if scope in settings.RATE_LIMITS:
            rate_limit(scope=scope, key=request_key(request))
        return True
