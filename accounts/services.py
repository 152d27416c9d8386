"""Writes to accounts: every change of a resident's profile goes through here."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from civic.models import Building
from rewards.models import Reason
from rewards.services import POINTS_PROFILE_COMPLETED, Award, points_award


class ProfileError(Exception):
    """A profile change the rules refuse; ``str()`` is the message for the resident."""

    field = None


class HomeMoveTooSoon(ProfileError):
    field = "home_building"

    def __init__(self, *, next_allowed_at: datetime):
        self.next_allowed_at = next_allowed_at
        local = timezone.localtime(next_allowed_at)
        super().__init__(
            _("You can change your home building once every %(days)d days; next time on %(date)s.")
            % {"days": home_move_interval().days, "date": local.strftime("%d.%m.%Y %H:%M")}
        )


class BirthYearInFuture(ProfileError):
    field = "birth_year"

    def __init__(self):
        super().__init__(_("The birth year cannot be in the future."))


class ApartmentNotInBuilding(ProfileError):
    field = "apartment"

    def __init__(self, *, apartment: str, building: Building):
        super().__init__(
            _("Apartment %(apartment)s does not exist: %(address)s has %(count)d apartments.")
            % {"apartment": apartment, "address": building.address, "count": building.apartments}
        )


@dataclass(frozen=True)
class ProfileChanges:
    home_building: Building | None
    apartment: str
    birth_year: int | None
    gender: str
    language: str


def home_move_interval() -> timedelta:
    return timedelta(days=settings.HOME_BUILDING_CHANGE_INTERVAL_DAYS)


def home_building_next_change_at(*, user: User) -> datetime | None:
    """When the resident may next change their home building; None if they may now."""
    if user.home_building_changed_at is None:
        return None
    next_at = user.home_building_changed_at + home_move_interval()
    return next_at if next_at > timezone.now() else None


def profile_update(*, user: User, changes: ProfileChanges) -> User:
    """Save the resident's profile; a new home building is allowed once per interval.

    The move is a conditional UPDATE, so two concurrent edits cannot both move
    the resident inside one interval.
    """
    if changes.birth_year is not None and changes.birth_year > timezone.localdate().year:
        raise BirthYearInFuture()
    building = changes.home_building
    if building is not None and changes.apartment:
        _check_apartment_exists(apartment=changes.apartment, building=building)
    with transaction.atomic():
        if building is not None and building.pk != user.home_building_id:
            _move_home(user=user, building=building)
        user.apartment = changes.apartment
        user.birth_year = changes.birth_year
        user.gender = changes.gender
        user.language = changes.language
        user.save(update_fields=["apartment", "birth_year", "gender", "language"])
        if user.home_building_id and user.birth_year and user.gender:
            points_award(
                user_id=user.pk,
                amount=POINTS_PROFILE_COMPLETED,
                award=Award(Reason.PROFILE_COMPLETED, key="profile_completed"),
            )
    return user


def _move_home(*, user: User, building: Building) -> None:
    now = timezone.now()
    moved = (
        User.objects.filter(pk=user.pk)
        .filter(
            Q(home_building_changed_at__isnull=True)
            | Q(home_building_changed_at__lte=now - home_move_interval())
        )
        .update(home_building=building, home_building_changed_at=now)
    )
    if not moved:
        user.refresh_from_db(fields=["home_building", "home_building_changed_at"])
        raise HomeMoveTooSoon(next_allowed_at=user.home_building_changed_at + home_move_interval())
    user.home_building = building
    user.home_building_changed_at = now


def _check_apartment_exists(*, apartment: str, building: Building) -> None:
    digits = "".join(ch for ch in apartment if ch.isdigit())
    if digits and int(digits) > building.apartments:
        raise ApartmentNotInBuilding(apartment=apartment, building=building)
