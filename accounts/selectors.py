"""Reads about residents shared by pages and the API."""

from dataclasses import dataclass

from django.db.models import Count

from accounts.models import ResidencyClaim, User
from civic.models import Building


def resident_with_home(*, user_id: int) -> User:
    """The resident with their home, and whether their email is confirmed (one query)."""
    return (
        User.objects.with_email_verified()
        .select_related("home_building__district__okrug")
        .get(pk=user_id)
    )


def visitor_with_home(*, user):
    """The signed-in resident with their home loaded, or the anonymous user as it is."""
    return resident_with_home(user_id=user.pk) if user.is_authenticated else user


def building_resident_count(*, building: Building) -> int:
    return User.objects.filter(home_building=building, is_active=True).count()


def latest_claim(*, user: User) -> ResidencyClaim | None:
    """The resident's most recent residency claim (pending, verified, declined or ended)."""
    return ResidencyClaim.objects.filter(user=user).select_related("building").first()


@dataclass(frozen=True)
class BuildingResidency:
    verified_residents: int
    verified_apartments: int


def building_residency(*, building_id: int) -> BuildingResidency:
    """How many verified residents the building has, and in how many apartments."""
    counts = User.objects.filter(verified_building_id=building_id, is_active=True).aggregate(
        residents=Count("pk"), apartments=Count("verified_apartment", distinct=True)
    )
    return BuildingResidency(counts["residents"], counts["apartments"])
