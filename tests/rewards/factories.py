"""Factories and helpers for rewards."""

import itertools

import factory

from rewards.models import Reason, Reward
from rewards.services import Award, points_award

_keys = itertools.count()


class RewardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reward

    title = factory.Sequence(lambda n: f"Билет в театр {n}")
    category = "theatre"
    cost = 60
    stock = None


def give_points(user, amount: int) -> None:
    """Credit points as an award would (a unique key each time)."""
    points_award(
        user_id=user.pk,
        amount=amount,
        award=Award(Reason.ADJUSTMENT, key=f"test:{next(_keys)}", comment="test"),
    )
