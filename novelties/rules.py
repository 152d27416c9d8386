"""May this visitor rate this novelty now, and if not, why? Answered here once, for the
novelty page, the list, the API and the rating service alike.

Ratings earn points, so throwaway accounts must not farm them: only signed-in residents
with a confirmed email address and a home address, whose account is not suspended, rate a
published novelty while it is open for rating.
"""

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.rules import is_suspended
from novelties.models import Novelty, Phase
from polls.rules import Refusal, suspended_refusal

# How a refusal answers over HTTP, for the pages and the API alike (anything else is 403).
REFUSAL_STATUS = {
    "not_signed_in": 401,
    "not_published": 404,
    "rating_closed": 409,
    "daily_limit": 429,
}


def refusal_status(code: str) -> int:
    return REFUSAL_STATUS.get(code, 403)


def resident_refusal(*, user) -> Refusal | None:
    """The part that depends on the resident only (the same for every novelty). Expects
    ``user.email_verified`` annotated, as ``accounts.selectors.resident_with_home`` gives
    it, so it costs no query."""
    if not user.is_authenticated:
        return Refusal("not_signed_in", _("Sign in to rate city novelties."))
    if is_suspended(user):
        return suspended_refusal()
    if not user.email_verified:
        return Refusal(
            "email_unverified",
            _("Confirm your email address to rate city novelties: enter the code we emailed you."),
        )
    if user.home_building_id is None:
        return Refusal(
            "no_address",
            _(
                "Set your home address in your profile to rate city novelties: "
                "they are rated by residents."
            ),
        )
    return None


def rating_refusal(*, user, novelty: Novelty, now: datetime | None = None) -> Refusal | None:
    """None if ``user`` may rate ``novelty`` now (or change their rating), else why not."""
    now = now or timezone.now()
    phase = novelty.phase(now)
    if phase == Phase.DRAFT:
        return Refusal("not_published", _("This novelty is not published."))
    if phase == Phase.CLOSED:
        closed = timezone.localtime(novelty.rating_closes_at).strftime("%d.%m.%Y %H:%M")
        return Refusal(
            "rating_closed", _("Rating of this novelty closed on %(date)s.") % {"date": closed}
        )
    return resident_refusal(user=user)
