"""May this visitor rate this novelty now, and if not, why? Answered here once, for the
novelty page, the list, the API and the rating service alike.

Ratings earn points, so throwaway accounts must not farm them: only signed-in residents
with a confirmed email address and a completed profile (home address, birth year, gender),
whose account is not suspended, rate a published novelty while it is open for rating.
"""

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.rules import Refusal, participant_refusal
from accounts.rules import refusal_status as participant_refusal_status
from novelties.models import Novelty, Phase

# How this app's refusals answer over HTTP, for the pages and the API alike.
REFUSAL_STATUS = {
    "not_published": 404,
    "rating_closed": 409,
    "daily_limit": 429,
}


def refusal_status(code: str) -> int:
    return participant_refusal_status(code, REFUSAL_STATUS)


def resident_refusal(*, user) -> Refusal | None:
    """The part that depends on the resident only (the same for every novelty)."""
    return participant_refusal(user=user, activity=_("rate city novelties"))


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
