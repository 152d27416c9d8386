"""A resident's novelty ratings in their data export, and anonymous once their account is gone."""

import pytest

from accounts.privacy import account_delete, personal_data_export
from novelties.models import Rating
from novelties.selectors import rating_stats
from novelties.services import novelty_rate
from tests.accounts.factories import UserFactory
from tests.novelties.factories import NoveltyFactory

pytestmark = pytest.mark.django_db


def test_the_export_has_the_ratings_and_deletion_leaves_only_anonymous_stars():
    user = UserFactory(language="en")
    novelty = NoveltyFactory(title="Сквер у дома")
    novelty_rate(user=user, novelty=novelty, stars=2, comment="Живу в кв. 5, шумно по ночам")
    exported = personal_data_export(user=user)["novelties"]["novelty_ratings"]
    assert [(r["novelty"], r["stars"], r["comment"]) for r in exported] == [
        ("Сквер у дома", 2, "Живу в кв. 5, шумно по ночам")
    ]

    account_delete(user=user, password="correct horse battery")  # noqa: S106
    rating = Rating.objects.get()
    assert (rating.user_id, rating.comment, rating.stars) == (None, "", 2)
    assert rating_stats(novelty_ids=[novelty.pk])[novelty.pk].average == 2.0
