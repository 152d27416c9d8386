"""May this visitor post, reply or support in this discussion, and if not, why? Answered
once, here, for the discussion page, the list, the API and the services alike.

Anyone may read a discussion. Taking part is for the residents of the area concerned (the
whole city, or chosen okrugs and districts, as for polls) with a confirmed email address and
a completed profile (home address, birth year, gender), whose account is not suspended,
while the discussion is open.
"""

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.rules import Refusal, participant_refusal
from accounts.rules import refusal_status as participant_refusal_status
from discussions.models import Discussion
from polls.models import Phase, Scope

# How this app's refusals answer over HTTP, for the pages and the API alike.
REFUSAL_STATUS = {
    "discussion_not_open": 409,
    "discussion_closed": 409,
    "already_supported": 409,
    "already_reported": 409,
    "post_hidden": 409,
    "blocked_word": 400,
    "invalid": 400,
}


def refusal_status(code: str) -> int:
    return participant_refusal_status(code, REFUSAL_STATUS)


def resident_refusal(*, user) -> Refusal | None:
    """The part that depends on the resident only (the same for every discussion)."""
    return participant_refusal(user=user, activity=_("take part in the discussion"))


def area_names(discussion: Discussion) -> str:
    """The okrugs and districts of an area discussion; expects them prefetched."""
    return ", ".join(
        [okrug.name for okrug in discussion.okrugs.all()]
        + [district.name for district in discussion.districts.all()]
    )


def post_refusal(*, user, discussion: Discussion, now: datetime | None = None) -> Refusal | None:
    """None if ``user`` may post, reply and support in ``discussion`` now, else why not.

    Expects ``user.home_building.district`` loaded and the discussion's okrugs and districts
    prefetched, so asking about many discussions costs no queries.
    """
    phase = discussion.phase(now or timezone.now())
    if phase == Phase.UPCOMING:
        opens = timezone.localtime(discussion.opens_at).strftime("%d.%m.%Y %H:%M")
        return Refusal(
            "discussion_not_open", _("The discussion opens on %(date)s.") % {"date": opens}
        )
    if phase == Phase.CLOSED:
        return Refusal("discussion_closed", _("The discussion has ended."))
    return resident_refusal(user=user) or _area_refusal(user, discussion)


def _area_refusal(user, discussion: Discussion) -> Refusal | None:
    if discussion.scope == Scope.CITY:
        return None
    district = user.home_building.district
    if any(d.pk == district.pk for d in discussion.districts.all()) or any(
        okrug.pk == district.okrug_id for okrug in discussion.okrugs.all()
    ):
        return None
    return Refusal(
        "out_of_scope",
        _(
            "This discussion is for the residents of %(areas)s; your home is in %(district)s. "
            "You can read it, but not post."
        )
        % {"areas": area_names(discussion), "district": district.name},
    )
