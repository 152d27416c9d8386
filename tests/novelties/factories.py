"""Factories for city novelties: a published citywide novelty, open for rating a week."""

import io
from datetime import timedelta

import factory
from django.core.files.base import ContentFile
from django.db.models import Count, Sum
from django.utils import timezone
from PIL import Image

from novelties.models import Category, Novelty, NoveltyPhoto, Rating, StarCount
from tests.accounts.factories import UserFactory


class NoveltyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Novelty

    title = factory.Sequence(lambda n: f"Новинка {n}")
    description = "Открылся новый сквер.\n\nПодробности: https://example.org/novelty"
    category = Category.PARKS
    happened_on = factory.LazyFunction(timezone.localdate)
    rating_closes_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))
    published_at = factory.LazyFunction(timezone.now)


def png_file(name: str = "photo.png", size=(40, 30), colour=(30, 120, 60)) -> ContentFile:
    output = io.BytesIO()
    Image.new("RGB", size, colour).save(output, format="PNG")
    return ContentFile(output.getvalue(), name=name)


class NoveltyPhotoFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NoveltyPhoto

    novelty = factory.SubFactory(NoveltyFactory)
    image = factory.LazyFunction(png_file)
    alt_text = "Новый сквер с фонтаном"


class RatingFactory(factory.django.DjangoModelFactory):
    """A counted rating, written directly (the service is tested on its own)."""

    class Meta:
        model = Rating

    novelty = factory.SubFactory(NoveltyFactory)
    user = factory.SubFactory(UserFactory)
    stars = 4


def counts_of_ratings() -> dict[tuple[int, int], int]:
    """(novelty, stars) -> counted ratings, recounted from the ratings themselves."""
    rows = (
        Rating.objects.filter(excluded_at__isnull=True)
        .values_list("novelty_id", "stars")
        .annotate(n=Count("*"))
        .order_by()
    )
    return {(novelty_id, stars): n for novelty_id, stars, n in rows}


def counts_kept() -> dict[tuple[int, int], int]:
    """(novelty, stars) -> counted ratings, as the trigger keeps them in StarCount."""
    rows = StarCount.objects.values_list("novelty_id", "stars").annotate(n=Sum("count")).order_by()
    return {(novelty_id, stars): n for novelty_id, stars, n in rows if n}
