"""Reads about residents shared by pages and the API."""

from dataclasses import dataclass

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.db.models import Count

from accounts.models import CodeAttempt, ResidencyClaim, SignupRecord, User
from accounts.notifications import notification_text
from civic.models import Building, District


def resident_with_home(*, user_id: int) -> User:
    """The resident with their home, and whether their email is confirmed (one query)."""
    return (
        User.objects.with_email_verified()
        .select_related("home_building__district__okrug")
        .get(pk=user_id)
    )


def visitor_with_home(*, user):
    """The signed-in resident with their home loaded, or the anonymous user as it is. A
    resident signed in with an app's token comes loaded so (``accounts.tokens``): then
    this costs no query."""
    if not user.is_authenticated or _loaded_as_resident(user):
        return user
    return resident_with_home(user_id=user.pk)


def _loaded_as_resident(user: User) -> bool:
    """Whether ``user`` has what ``resident_with_home`` loads: ``email_verified`` and the home
    with its district and okrug."""
    if "email_verified" not in vars(user) or not User.home_building.is_cached(user):
        return False
    home = user.home_building
    return home is None or (
        Building.district.is_cached(home) and District.okrug.is_cached(home.district)
    )


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


def personal_data(*, user: User) -> dict:
    """Everything accounts keeps about the resident, for their data export (accounts/privacy.py):
    the profile, addresses, sign-in methods (never a secret), sessions, where they signed up
    from, residency claims and code tries, and notifications in the active language. Of
    other people nothing: the inviter and the staff who decided a claim are not named."""
    resident = User.objects.select_related(
        "home_building__district__okrug", "verified_building"
    ).get(pk=user.pk)
    home = resident.home_building
    return {
        "profile": {
            "email": resident.email,
            "first_name": resident.first_name,
            "last_name": resident.last_name,
            "home_building": home.address if home else None,
            "district": home.district.name if home else None,
            "okrug": home.district.okrug.name if home else None,
            "apartment": resident.apartment,
            "home_building_changed_at": resident.home_building_changed_at,
            "birth_year": resident.birth_year,
            "gender": resident.gender,
            "language": resident.language,
            "email_notifications": resident.email_notifications,
            "verified_building": (
                resident.verified_building.address if resident.verified_building else None
            ),
            "verified_apartment": resident.verified_apartment,
            "joined_at": resident.date_joined,
            "last_login_at": resident.last_login,
            "invited_by_a_neighbour": resident.invited_by_id is not None,
            "neighbours_invited": resident.invitees.count(),
            "staff": resident.is_staff,
            "groups": list(resident.groups.values_list("name", flat=True)),
            "suspended_at": resident.suspended_at,
            "suspension_reason": resident.suspension_reason,
        },
        "email_addresses": list(
            EmailAddress.objects.filter(user=resident)
            .order_by("pk")
            .values("email", "verified", "primary")
        ),
        "two_factor_authenticators": list(
            Authenticator.objects.filter(user=resident)
            .order_by("pk")
            .values("type", "created_at", "last_used_at")
        ),
        "sessions": list(
            UserSession.objects.filter(user=resident)
            .order_by("pk")
            .values("ip", "user_agent", "created_at", "last_seen_at")
        ),
        "signups": list(
            SignupRecord.objects.filter(user=resident).order_by("pk").values("ip", "created_at")
        ),
        "residency_claims": [
            {
                "address": claim.building.address,
                "apartment": claim.apartment,
                "status": claim.status,
                "method": claim.method,
                "note": claim.note,
                "reason": claim.reason,
                "claimed_at": claim.created_at,
                "decided_at": claim.decided_at,
            }
            for claim in ResidencyClaim.objects.filter(user=resident)
            .select_related("building")
            .order_by("pk")
        ],
        "residency_code_tries": list(
            CodeAttempt.objects.filter(user=resident).order_by("pk").values("outcome", "created_at")
        ),
        "notifications": [
            {
                "kind": notification.kind,
                "title": text.title,
                "body": text.body,
                "url": notification.url,
                "created_at": notification.created_at,
                "read_at": notification.read_at,
            }
            for notification in resident.notifications.order_by("pk")
            for text in [notification_text(notification)]
        ],
    }
