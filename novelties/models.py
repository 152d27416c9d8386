"""City novelties: changes in the city (a new park, a metro station, a clinic) that admins
publish and residents rate from 1 to 5 stars, with a short comment.

A resident has one rating per novelty (a unique constraint); changing it updates that row.
A rating that city admins judged farmed is kept but excluded (``excluded_at`` with who and
why): it stops counting in averages, distributions and the ranking, and can be counted again.
Averages are not stored: ``selectors.rating_stats`` computes them from ``StarCount``, the
counted ratings per stars kept in shards by a database trigger on the ratings (see
``novelties.selectors`` why).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civic.models import Building, District, Okrug
from civic.uploads import SafeImageField

STARS = range(1, 6)
COMMENT_MAX_LENGTH = 500


class Category(models.TextChoices):
    TRANSPORT = "transport", _("Transport")
    STREETS = "streets", _("Streets and roads")
    PARKS = "parks", _("Parks and public spaces")
    HEALTH = "health", _("Health care")
    EDUCATION = "education", _("Education")
    CULTURE = "culture", _("Culture and sport")
    HOUSING = "housing", _("Housing and utilities")
    SERVICES = "services", _("City services")


class Phase(models.TextChoices):
    """Derived from ``published_at`` and ``rating_closes_at`` at the moment of asking."""

    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Open for rating")
    CLOSED = "closed", _("Rating closed")


class Novelty(models.Model):
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(
        _("description"), help_text=_("Plain text; blank lines start paragraphs.")
    )
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    okrug = models.ForeignKey(
        Okrug,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("okrug"),
        help_text=_("Leave the okrug, district and building empty for a citywide novelty."),
    )
    district = models.ForeignKey(
        District,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("district"),
        help_text=_("The okrug is filled in from the district."),
    )
    building = models.ForeignKey(
        Building,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("building"),
        help_text=_("The district and okrug are filled in from the building."),
    )
    address = models.CharField(
        _("address or landmark"),
        max_length=300,
        blank=True,
        help_text=_("Where it is, when that is not a building of the map (a park, a street)."),
    )
    happened_on = models.DateField(
        _("date"),
        help_text=_(
            "When it opened or was finished. The ranking groups novelties by this date's month."
        ),
    )
    rating_closes_at = models.DateTimeField(_("open for rating until"))
    published_at = models.DateTimeField(_("published"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-happened_on", "-pk"]
        verbose_name = _("city novelty")
        verbose_name_plural = _("city novelties")
        constraints = [
            models.CheckConstraint(
                condition=Q(district__isnull=True) | Q(okrug__isnull=False),
                name="novelty_district_has_okrug",
            ),
            models.CheckConstraint(
                condition=Q(building__isnull=True) | Q(district__isnull=False),
                name="novelty_building_has_district",
            ),
        ]
        indexes = [
            models.Index(
                fields=["happened_on"],
                condition=Q(published_at__isnull=False),
                name="novelty_published_by_date",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self):
        """The admin picks the most precise place; the wider ones follow from it and must
        agree with it."""
        super().clean()
        if self.building_id:
            if self.district_id and self.district_id != self.building.district_id:
                raise ValidationError(
                    {"district": _("The building is in another district: leave this empty.")}
                )
            self.district = self.building.district
        if self.district_id:
            if self.okrug_id and self.okrug_id != self.district.okrug_id:
                raise ValidationError(
                    {"okrug": _("The district is in another okrug: leave this empty.")}
                )
            self.okrug = self.district.okrug

    def phase(self, now=None) -> Phase:
        now = now or timezone.now()
        if self.published_at is None:
            return Phase.DRAFT
        return Phase.OPEN if now < self.rating_closes_at else Phase.CLOSED

    @property
    def place(self) -> str:
        """The most precise place known: "Tverskaya St, h. 7 · Tverskoy, CAO", or the city."""
        parts = [self.building.address if self.building_id else self.address]
        if self.district_id:
            parts.append(f"{self.district.name}, {self.okrug.name}")
        elif self.okrug_id:
            parts.append(self.okrug.name)
        else:
            parts.append(str(_("whole city")))
        return " · ".join(part for part in parts if part)


class NoveltyPhoto(models.Model):
    novelty = models.ForeignKey(
        Novelty, on_delete=models.CASCADE, related_name="photos", verbose_name=_("novelty")
    )
    image = SafeImageField(_("photo"), upload_to="novelties/")
    alt_text = models.CharField(
        _("what the photo shows"),
        max_length=200,
        help_text=_("Read out by screen readers instead of the photo."),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("photo")
        verbose_name_plural = _("photos")

    def __str__(self) -> str:
        return self.alt_text


class Rating(models.Model):
    """A resident's stars and comment for a novelty; one per resident and novelty.

    ``user`` is emptied when the resident's personal data is erased: the stars keep counting,
    the comment is gone. ``excluded_*`` is the admins' flag for a farmed rating.
    """

    novelty = models.ForeignKey(
        Novelty, on_delete=models.PROTECT, related_name="ratings", verbose_name=_("novelty")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="novelty_ratings",
        verbose_name=_("resident"),
    )
    stars = models.PositiveSmallIntegerField(_("stars"))
    comment = models.CharField(_("comment"), max_length=COMMENT_MAX_LENGTH, blank=True)
    created_at = models.DateTimeField(_("rated"), default=timezone.now)
    updated_at = models.DateTimeField(_("last changed"), default=timezone.now)
    excluded_at = models.DateTimeField(_("excluded from averages"), null=True, blank=True)
    excluded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("excluded by"),
    )
    exclusion_reason = models.CharField(_("reason for exclusion"), max_length=300, blank=True)

    class Meta:
        ordering = ["-updated_at", "-pk"]
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        constraints = [
            models.UniqueConstraint(fields=["novelty", "user"], name="rating_once_per_resident"),
            models.CheckConstraint(
                condition=Q(stars__gte=1, stars__lte=5), name="rating_one_to_five_stars"
            ),
            # An exclusion always says why; a rating counted again keeps no stale reason.
            models.CheckConstraint(
                condition=Q(excluded_at__isnull=True, exclusion_reason="")
                | (Q(excluded_at__isnull=False) & ~Q(exclusion_reason="")),
                name="rating_exclusion_has_reason",
            ),
        ]
        indexes = [
            # The latest comments of a novelty's counted ratings.
            models.Index(
                fields=["novelty", "-updated_at"],
                condition=Q(excluded_at__isnull=True) & ~Q(comment=""),
                name="rating_latest_comments",
            ),
            # The daily limit and the suspicious-ratings report.
            models.Index(fields=["user", "created_at"], name="rating_user_time"),
            models.Index(fields=["created_at"], name="rating_time"),
        ]

    def __str__(self) -> str:
        return f"{self.novelty_id}: {self.stars}★"


# Fixed by the trigger of migration 0003 (tests check they agree); changing it takes a new
# migration that replaces the trigger and recounts.
STAR_COUNT_SHARDS = 16


class StarCount(models.Model):
    """How many counted ratings gave ``stars`` to ``novelty``, in one of
    ``STAR_COUNT_SHARDS`` shards (the rating's id modulo the shard count).

    Kept by a database trigger on ``Rating`` (migration 0003), in the transaction that
    inserts, changes, excludes, includes or deletes a rating, so it cannot drift from the
    ratings whatever writes them. Sharded so that residents rating one novelty at once
    change different rows instead of queueing for one. Never written by Python code.
    """

    novelty = models.ForeignKey(Novelty, on_delete=models.CASCADE, related_name="+")
    stars = models.PositiveSmallIntegerField()
    shard = models.PositiveSmallIntegerField()
    count = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["novelty", "stars", "shard"], name="star_count_one_per_shard"
            ),
            models.CheckConstraint(condition=Q(count__gte=0), name="star_count_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.novelty_id}: {self.stars}★ × {self.count}"
