"""May this resident vote in this poll, and if not, why? Answered once, here, for the poll
page, the home page, the API and the admin preview alike."""

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.models import User
from accounts.rules import Refusal, is_suspended, suspended_refusal
from polls.models import Phase, Poll, Scope

# How a refusal answers over HTTP, for the pages and the API alike (anything else is 403).
REFUSAL_STATUS = {
    "already_voted": 409,
    "apartment_voted": 409,
    "poll_closed": 409,
    "poll_not_open": 409,
    "poll_not_published": 404,
}


def refusal_status(code: str) -> int:
    return REFUSAL_STATUS.get(code, 403)


def resident_age(*, user: User, now: datetime) -> int | None:
    """Age reached this calendar year (in the city's time zone); we only know the birth year."""
    return None if user.birth_year is None else timezone.localdate(now).year - user.birth_year


ALREADY_VOTED = gettext_lazy("You have already voted in this poll.")
APARTMENT_VOTED = gettext_lazy(
    "A resident of your apartment has already voted: in this survey one vote per apartment "
    "counts, the first one."
)


def vote_refusal(
    *,
    user: User,
    poll: Poll,
    has_voted: bool,
    apartment_voted: bool = False,
    now: datetime | None = None,
) -> Refusal | None:
    """None if ``user`` may vote in ``poll`` now, else the reason they may not.

    Expects ``user.home_building.district`` loaded, ``user.email_verified`` annotated (both
    as ``accounts.selectors.resident_with_home`` gives them) and the poll's okrugs and
    districts prefetched, so asking about many polls costs no queries. ``apartment_voted``: someone
    from the voter's apartment voted in this one-vote-per-apartment survey.
    """
    now = now or timezone.now()
    if not user.is_authenticated:
        return Refusal("not_signed_in", _("Sign in to vote."))
    if is_suspended(user):
        return suspended_refusal()
    phase_refusal = _phase_refusal(poll, now)
    if phase_refusal:
        return phase_refusal
    if has_voted:
        return Refusal("already_voted", str(ALREADY_VOTED))
    if apartment_voted:
        return Refusal("apartment_voted", str(APARTMENT_VOTED))
    if not user.email_verified:
        return Refusal(
            "email_unverified",
            _("Confirm your email address to vote: enter the code we emailed you."),
        )
    return _scope_refusal(user, poll) or _age_refusal(user, poll, now)


def _phase_refusal(poll: Poll, now: datetime) -> Refusal | None:
    if poll.hidden_at is not None:
        return Refusal("survey_hidden", _("This survey was hidden by a moderator."))
    phase = poll.phase(now)
    if phase == Phase.DRAFT:
        return Refusal("poll_not_published", _("This poll is not published."))
    if phase == Phase.UPCOMING:
        opens = timezone.localtime(poll.opens_at).strftime("%d.%m.%Y %H:%M")
        return Refusal("poll_not_open", _("Voting opens on %(date)s.") % {"date": opens})
    if phase == Phase.CLOSED:
        return Refusal("poll_closed", _("Voting in this poll has closed."))
    return None


def _scope_refusal(user: User, poll: Poll) -> Refusal | None:
    if poll.scope == Scope.CITY:
        return None
    if poll.scope == Scope.BUILDING:
        if user.verified_building_id == poll.building_id:
            return None
        return Refusal(
            "not_verified_resident",
            _("Only verified residents of this building vote in its surveys."),
        )
    building = user.home_building
    if building is None:
        return Refusal(
            "no_address",
            _("This poll is for residents of some areas only: set your home address to vote."),
        )
    district_ids = {district.pk for district in poll.districts.all()}
    okrug_ids = {okrug.pk for okrug in poll.okrugs.all()}
    if building.district_id in district_ids or building.district.okrug_id in okrug_ids:
        return None
    areas = ", ".join(
        [okrug.name for okrug in poll.okrugs.all()] + [d.name for d in poll.districts.all()]
    )
    return Refusal(
        "out_of_scope",
        _("This poll is for residents of %(areas)s; your home is in %(district)s.")
        % {"areas": areas, "district": building.district.name},
    )


def _age_refusal(user: User, poll: Poll, now: datetime) -> Refusal | None:
    if not poll.min_age:
        return None
    age = resident_age(user=user, now=now)
    if age is None:
        return Refusal(
            "no_birth_year", _("This poll has an age limit: add your birth year to vote.")
        )
    if age < poll.min_age:
        return Refusal(
            "too_young",
            ngettext(
                "This poll is for residents aged %(age)d year and over.",
                "This poll is for residents aged %(age)d years and over.",
                poll.min_age,
            )
            % {"age": poll.min_age},
        )
    return None
