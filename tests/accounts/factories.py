"""Factories for accounts."""

import time

import factory
from allauth.account.models import EmailAddress
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value

from accounts.models import User
from tests.civic.factories import BuildingFactory

# Every staff account of the tests has an authenticator app with this secret (they must:
# accounts/mfa.py); totp_code() gives its current code, as the app would.
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105 - a test secret


def totp_code(secret: str = TOTP_SECRET) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // mfa_settings.TOTP_PERIOD))


def totp_activate(user: User, secret: str = TOTP_SECRET) -> None:
    TOTP.activate(user, secret)


class UserFactory(factory.django.DjangoModelFactory):
    """A resident with a verified email address (allauth requires one to log in); staff
    (``is_staff`` or superusers) also get an authenticator app, unless ``authenticator=False``.
    """

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"resident{n}@example.org")
    password = factory.django.Password("correct horse battery")
    home_building = factory.SubFactory(BuildingFactory)
    birth_year = 1985
    gender = "female"

    @factory.post_generation
    def verified_email(user, create, extracted, **kwargs):
        if create:
            EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)

    @factory.post_generation
    def authenticator(user, create, extracted, **kwargs):
        if create and extracted is not False and (user.is_staff or user.is_superuser):
            totp_activate(user)


def verified_resident(building, apartment: str = "1", **fields) -> User:
    """A resident verified in ``building``, ``apartment`` (as a used code would leave them)."""
    return UserFactory(
        home_building=building,
        apartment=apartment,
        verified_building=building,
        verified_apartment=apartment,
        **fields,
    )
