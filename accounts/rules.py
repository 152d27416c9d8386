"""May this account act (vote, rate, comment, earn or spend points)? A suspended one may not.

Any app's service asks ``suspension_check(user=...)`` before it writes; the user row is
already loaded, so the check costs no query. Suspending and reinstating are
``accounts.services.account_suspend`` / ``account_reinstate`` (docs/decisions/0008).
"""

from django.utils.translation import gettext as _

from accounts.models import User


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
