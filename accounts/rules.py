"""May this account act (vote, rate, comment, earn or spend points)? A suspended one may not.

Any app's service asks ``suspension_check(user=...)`` before it writes; the user row is
already loaded, so the check costs no query. Suspending and reinstating are
``accounts.services.account_suspend`` / ``account_reinstate`` (docs/decisions/0009).

``participant_refusal`` is the part of every "may this resident take part?" rule that
depends on the account only (signed in, not suspended, email confirmed, profile complete),
with one set of codes for all apps.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from django.utils.translation import gettext as _

from accounts.models import User


@dataclass(frozen=True)
class Refusal:
    """Why a resident cannot act: a stable code (for the API) and a message for people."""

    code: str
    message: str


class AccountSuspended(Exception):
    """The account is suspended: a stable ``code`` (API), a 403 and a message for people."""

    code = "account_suspended"
    status = 403

    def __init__(self):
        super().__init__(suspension_message())


def suspension_message() -> str:
    return _(
        "Your account is suspended: it cannot vote, rate, comment or use points. "
        "See the notification we sent you, and write to the city's support if this is a mistake."
    )


def is_suspended(user) -> bool:
    """Works for the anonymous user too (never suspended)."""
    return getattr(user, "suspended_at", None) is not None


def suspension_check(*, user: User) -> None:
    """Raise ``AccountSuspended`` if ``user`` is suspended; no query."""
    if is_suspended(user):
        raise AccountSuspended()


def suspended_refusal() -> Refusal:
    """A suspended account takes part nowhere (docs/decisions/0009); 403."""
    return Refusal(AccountSuspended.code, suspension_message())


def profile_complete(user) -> bool:
    """Home address, birth year and gender are set: what taking part and points ask for."""
    return bool(user.home_building_id and user.birth_year and user.gender)


def participant_refusal(*, user, activity: str) -> Refusal | None:
    """None if ``user`` is a signed-in, unsuspended resident with a confirmed email address
    and a complete profile, else why not. ``activity`` says what they want to do, translated
    and in the infinitive ("rate city novelties"); it ends the refusal's sentence.

    Expects ``user.email_verified`` annotated (``accounts.selectors.resident_with_home`` and
    ``visitor_with_home`` give it), so it costs no query."""
    if not user.is_authenticated:
        return Refusal("not_signed_in", _("Sign in to %(activity)s.") % {"activity": activity})
    if is_suspended(user):
        return suspended_refusal()
    if not user.email_verified:
        return Refusal(
            "email_unverified",
            _("Confirm your email address to %(activity)s: enter the code we emailed you.")
            % {"activity": activity},
        )
    if not profile_complete(user):
        return Refusal(
            "profile_incomplete",
            _("Complete your profile (home address, birth year and gender) to %(activity)s.")
            % {"activity": activity},
        )
    return None


def refusal_status(code: str, statuses: Mapping[str, int]) -> int:
    """The HTTP status of a refusal, for pages and API alike: 401 to sign in, the app's own
    ``statuses`` for its codes, 403 for anything else."""
    if code == "not_signed_in":
        return 401
    return statuses.get(code, 403)
