"""Writes to city novelties: rating (and changing one's rating), publishing, excluding
farmed ratings from the averages and counting them again, and erasing a resident's ratings."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from accounts.rules import suspension_check
from accounts.services import resident_lock
from novelties.models import COMMENT_MAX_LENGTH, STARS, Novelty, Rating, StarCount
from novelties.rules import Refusal, rating_refusal
from rewards.models import Reason
from rewards.services import Award, points_award

EXCLUSION_REASON_MAX_LENGTH = Rating._meta.get_field("exclusion_reason").max_length


class RatingRefused(Exception):
    """The resident may not rate (closed, not eligible, daily limit...); see ``refusal``."""

    def __init__(self, refusal: Refusal):
        self.refusal = refusal
        super().__init__(refusal.message)


class InvalidRating(Exception):
    """The stars or the comment are not acceptable; ``field`` names which."""

    code = "invalid_rating"

    def __init__(self, message: str, *, field: str):
        self.field = field
        super().__init__(message)


class NoveltyError(Exception):
    """An admin operation the rules refuse; ``str()`` says why."""


@dataclass(frozen=True)
class RatingSaved:
    rating: Rating
    created: bool  # False: the resident changed their earlier rating
    points: int  # awarded now: a first rating of the novelty earns them, ever once


def novelty_rate(
    *, user: User, novelty: Novelty, stars: int, comment: str = "", now: datetime | None = None
) -> RatingSaved:
    """Save ``user``'s rating of ``novelty``: a new row, or a change of their own row.

    Refuses a suspended account (``AccountSuspended``), anyone ``rules.rating_refusal``
    refuses, and a new rating beyond the daily limit (``RatingRefused``); bad stars or a too
    long comment (``InvalidRating``). Writes nothing then.

    The resident's row is locked for the transaction, so their own simultaneous ratings
    happen one after another: the daily count cannot be overrun, and a second request finds
    the first one's row and changes it. The unique constraint (novelty, user) holds whatever
    happens. Only the resident's row is locked, never the novelty's: residents rating the
    same novelty do not wait for each other. The first rating of a novelty earns
    ``NOVELTY_RATING_POINTS``, once ever (the ledger key), a change or a second rating after
    an erasure earns nothing.
    """
    now = now or timezone.now()
    suspension_check(user=user)
    comment = comment.strip()
    _check_rating_input(stars=stars, comment=comment)
    refusal = rating_refusal(user=user, novelty=novelty, now=now)
    if refusal:
        raise RatingRefused(refusal)
    with transaction.atomic():
        resident_lock(user.pk, no_key=True)
        rating = Rating.objects.filter(novelty=novelty, user=user).first()
        created = rating is None
        if created:
            _check_daily_limit(user=user, now=now)
        # Points first: the rating's write changes a shared count (a trigger), whose row
        # lock is then held only until the commit right after.
        points = _points_award(user=user, novelty=novelty)
        if created:
            rating = Rating.objects.create(
                novelty=novelty,
                user=user,
                stars=stars,
                comment=comment,
                created_at=now,
                updated_at=now,
            )
        else:
            rating.stars, rating.comment, rating.updated_at = stars, comment, now
            rating.save(update_fields=["stars", "comment", "updated_at"])
    return RatingSaved(rating=rating, created=created, points=points)


def _check_rating_input(*, stars: int, comment: str) -> None:
    if stars not in STARS:
        raise InvalidRating(_("Choose from 1 to 5 stars."), field="stars")
    if len(comment) > COMMENT_MAX_LENGTH:
        raise InvalidRating(
            _("The comment has %(length)d characters; the limit is %(limit)d.")
            % {"length": len(comment), "limit": COMMENT_MAX_LENGTH},
            field="comment",
        )


def _check_daily_limit(*, user: User, now: datetime) -> None:
    """New ratings since midnight in the city's time zone (changes do not count)."""
    limit = settings.NOVELTY_RATINGS_PER_DAY
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    if Rating.objects.filter(user=user, created_at__gte=midnight).count() >= limit:
        raise RatingRefused(
            Refusal(
                "daily_limit",
                ngettext(
                    "You have rated %(count)d novelty today, the daily limit. "
                    "You can rate more tomorrow, or change the ratings you gave.",
                    "You have rated %(count)d novelties today, the daily limit. "
                    "You can rate more tomorrow, or change the ratings you gave.",
                    limit,
                )
                % {"count": limit},
            )
        )


def _points_award(*, user: User, novelty: Novelty) -> int:
    amount = settings.NOVELTY_RATING_POINTS
    if amount <= 0:
        return 0
    award = Award(
        Reason.NOVELTY_RATING, key=f"novelty_rating:{novelty.pk}", source=f"novelty:{novelty.pk}"
    )
    return amount if points_award(user_id=user.pk, amount=amount, award=award) else 0


# --- the admin's operations -------------------------------------------------------------------


def novelty_publish(*, novelty: Novelty, now: datetime | None = None) -> None:
    """Show a draft to residents; refused when its rating period is already over."""
    now = now or timezone.now()
    if novelty.rating_closes_at <= now:
        raise NoveltyError(
            _("Set “open for rating until” to a time in the future before publishing.")
        )
    Novelty.objects.filter(pk=novelty.pk, published_at__isnull=True).update(published_at=now)
    novelty.refresh_from_db(fields=["published_at"])


def novelty_unpublish(*, novelty: Novelty) -> None:
    """Hide a novelty from residents; its ratings are kept and count again if republished."""
    Novelty.objects.filter(pk=novelty.pk).update(published_at=None)
    novelty.published_at = None


def ratings_exclude(
    *, rating_ids: list[int], by: User, reason: str, now: datetime | None = None
) -> int:
    """Stop counting these ratings in averages, distributions and the ranking, keeping them
    with who excluded them, when and why. Returns how many were newly excluded."""
    reason = reason.strip()
    if not reason:
        raise NoveltyError(_("Give the reason for excluding the ratings."))
    if len(reason) > EXCLUSION_REASON_MAX_LENGTH:
        raise NoveltyError(
            _("The reason has %(length)d characters; the limit is %(limit)d.")
            % {"length": len(reason), "limit": EXCLUSION_REASON_MAX_LENGTH}
        )
    with transaction.atomic():
        ratings = _locked_with_counts(rating_ids=rating_ids, excluded=False)
        return ratings.update(
            excluded_at=now or timezone.now(), excluded_by=by, exclusion_reason=reason
        )


def ratings_include(*, rating_ids: list[int]) -> int:
    """Count excluded ratings again (undo ``ratings_exclude``); returns how many."""
    with transaction.atomic():
        ratings = _locked_with_counts(rating_ids=rating_ids, excluded=True)
        return ratings.update(excluded_at=None, excluded_by=None, exclusion_reason="")


def _locked_with_counts(*, rating_ids: list[int], excluded: bool) -> QuerySet[Rating]:
    """Lock the ratings (by id), then every star count of their novelties in (novelty,
    shard, stars) order, before a bulk update whose trigger changes those counts. A
    resident changing their rating meanwhile holds their rating, then its counts, lower
    stars first: with the same order here, one of the two waits and neither deadlocks."""
    ratings = Rating.objects.filter(pk__in=rating_ids, excluded_at__isnull=not excluded)
    novelty_ids = set(
        ratings.select_for_update().order_by("pk").values_list("novelty_id", flat=True)
    )
    counts = StarCount.objects.filter(novelty_id__in=novelty_ids).order_by(
        "novelty_id", "shard", "stars"
    )
    list(counts.select_for_update().values_list("pk"))
    return ratings


# --- personal data ----------------------------------------------------------------------------


def personal_data_erase(*, user: User) -> None:
    """Erase the resident's comments and unlink their ratings from them, inside the caller's
    transaction. The stars stay, anonymous, in the averages residents have seen; the points
    they earned stay in the ledger (which is never rewritten)."""
    Rating.objects.filter(user=user).update(user=None, comment="")
