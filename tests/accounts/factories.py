"""Factories for accounts."""

import factory
from allauth.account.models import EmailAddress

from accounts.models import User
from tests.civic.factories import BuildingFactory


class UserFactory(factory.django.DjangoModelFactory):
    """A resident with a verified email address (allauth requires one to log in)."""

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


def verified_resident(building, apartment: str = "1", **fields) -> User:
    """A resident verified in ``building``, ``apartment`` (as a used code would leave them)."""
    return UserFactory(
        home_building=building,
        apartment=apartment,
        verified_building=building,
        verified_apartment=apartment,
        **fields,
    )
