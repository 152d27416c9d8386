"""City staff and admins must use two-factor authentication (django-allauth's MFA).

A staff account — ``is_staff``, a superuser, or a member of the City staff or City admins
group — without an activated authenticator (an authenticator app, or a security key or
passkey) is sent from every page to set one up (allauth's pages under /accounts/2fa/; log
out and static files stay open), and the API refuses it with 403 ``mfa_required``.
Residents may turn two-factor authentication on; nothing forces them. The rule is
``settings.STAFF_MFA_REQUIRED`` (env ``STAFF_MFA_REQUIRED``, on by default).

Whether the rule applies is read with the signed-in user, in the same query: the
authentication backends below load the user of a session (pages, and the API's session
tokens) with two EXISTS columns, so neither pages nor API pay an extra query for it.
"""

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.groups import CITY_ADMINS, CITY_STAFF
from accounts.models import User

STAFF_GROUPS = (CITY_ADMINS, CITY_STAFF)
# Recovery codes alone are not a second factor: they back up one of these.
ACTIVE_TYPES = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)

MFA_REQUIRED_MESSAGE = _(
    "City staff and admin accounts must use two-factor authentication. Set up an "
    "authenticator app or a security key to continue."
)
API_MFA_REQUIRED_MESSAGE = _(
    "City staff and admin accounts must use two-factor authentication: set up an "
    "authenticator app or a security key first (in the browser at /accounts/2fa/, or through "
    "the authenticators endpoints of /_allauth/)."
)


def users_with_mfa_state() -> QuerySet[User]:
    """Users with ``in_staff_group`` and ``has_authenticator`` read in the same query."""
    return User.objects.annotate(
        in_staff_group=Exists(
            User.groups.through.objects.filter(user_id=OuterRef("pk"), group__name__in=STAFF_GROUPS)
        ),
        has_authenticator=Exists(
            Authenticator.objects.filter(user_id=OuterRef("pk"), type__in=ACTIVE_TYPES)
        ),
    )


def is_staff_account(user: User) -> bool:
    if user.is_staff or user.is_superuser:
        return True
    in_group = getattr(user, "in_staff_group", None)
    if in_group is None:  # a user not loaded by the backends below
        in_group = user.groups.filter(name__in=STAFF_GROUPS).exists()
    return in_group


def has_active_authenticator(user: User) -> bool:
    has = getattr(user, "has_authenticator", None)
    if has is None:
        has = Authenticator.objects.filter(user_id=user.pk, type__in=ACTIVE_TYPES).exists()
    return has


def mfa_setup_required(user) -> bool:
    """A signed-in staff account that has no authenticator yet, while the rule is on."""
    return (
        settings.STAFF_MFA_REQUIRED
        and user.is_authenticated
        and is_staff_account(user)
        and not has_active_authenticator(user)
    )


# --- login: loading the user with the rule's facts --------------------------------------------


class MfaStateMixin:
    def get_user(self, user_id):
        try:
            user = users_with_mfa_state().get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None


class ModelBackend(MfaStateMixin, DjangoModelBackend):
    """Django's backend (the admin's and the test client's logins)."""


class AuthenticationBackend(MfaStateMixin, AllauthBackend):
    """allauth's backend (log-in by email)."""
