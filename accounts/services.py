"""Writes to accounts: every change of a resident's profile, and residency verification."""

import ipaddress
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import (
    ClaimMethod,
    ClaimStatus,
    CodeAttempt,
    CodeOutcome,
    Notification,
    NotificationKind,
    ResidencyClaim,
    ResidencyCode,
    ResidencyCodeBatch,
    SignupRecord,
    User,
)
from accounts.notifications import notifications_create
from accounts.rules import profile_complete
from civic.codes import apartment_number, normalize_apartment, normalize_code
from civic.models import Building
from rewards.models import Reason
from rewards.services import (
    POINTS_ADDRESS_VERIFIED,
    POINTS_PROFILE_COMPLETED,
    Award,
    points_award,
)

logger = logging.getLogger(__name__)


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
    email_notifications: bool = True


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

    The resident's row is locked first, so the residency seen here is current (a code
    verified a moment ago is not undone), and the move is a conditional UPDATE, so two
    concurrent edits cannot both move the resident inside one interval. A move, or another
    apartment, ends the verification and any pending claim.
    """
    if changes.birth_year is not None and changes.birth_year > timezone.localdate().year:
        raise BirthYearInFuture()
    building = changes.home_building
    apartment = normalize_apartment(changes.apartment)
    if building is not None and apartment:
        _check_apartment_exists(apartment=apartment, building=building)
    fields = ["apartment", "birth_year", "gender", "language", "email_notifications"]
    with transaction.atomic():
        _refresh_residency(user)
        if building is not None and building.pk != user.home_building_id:
            _move_home(user=user, building=building)
        elif apartment != user.apartment:
            residency_end(user=user, now=timezone.now())
            fields += ["verified_building", "verified_apartment"]
        user.apartment = apartment
        user.birth_year = changes.birth_year
        user.gender = changes.gender
        user.language = changes.language
        user.email_notifications = changes.email_notifications
        user.save(update_fields=fields)
        # Points need a confirmed email address (votes do too: polls.rules).
        if profile_complete(user) and user.email_verified:
            points_award(
                user_id=user.pk,
                amount=POINTS_PROFILE_COMPLETED,
                award=Award(Reason.PROFILE_COMPLETED, key="profile_completed"),
            )
    return user


def resident_lock(user_id: int, *, no_key: bool = False) -> User:
    """The resident's row, locked to the end of the transaction: every residency change and
    profile save takes it, so they happen one after another. ``no_key`` (FOR NO KEY UPDATE)
    serialises a resident's own writes without blocking inserts that merely reference the
    row (their votes, ledger entries)."""
    return User.objects.select_for_update(no_key=no_key).get(pk=user_id)


def _refresh_residency(user: User) -> None:
    """Lock the resident's row and read its home and verification as they are now."""
    current = resident_lock(user.pk)
    for field in ("home_building_id", "apartment", "verified_building_id", "verified_apartment"):
        setattr(user, field, getattr(current, field))


def _move_home(*, user: User, building: Building) -> None:
    now = timezone.now()
    moved = (
        User.objects.filter(pk=user.pk)
        .filter(
            Q(home_building_changed_at__isnull=True)
            | Q(home_building_changed_at__lte=now - home_move_interval())
        )
        .update(
            home_building=building,
            home_building_changed_at=now,
            verified_building=None,
            verified_apartment="",
        )
    )
    if not moved:
        user.refresh_from_db(fields=["home_building", "home_building_changed_at"])
        raise HomeMoveTooSoon(next_allowed_at=user.home_building_changed_at + home_move_interval())
    user.home_building = building
    user.home_building_changed_at = now
    residency_end(user=user, now=now)


def residency_end(*, user: User, now: datetime) -> None:
    """A resident who moves loses the verification (and any pending claim) of the old home.

    Runs in the same UPDATE's transaction; the database's CHECK (verified building is the
    home building) would refuse the move otherwise.
    """
    ResidencyClaim.objects.filter(
        user=user, status__in=[ClaimStatus.PENDING, ClaimStatus.VERIFIED]
    ).update(status=ClaimStatus.ENDED, decided_at=now)
    user.verified_building = None
    user.verified_apartment = ""


def _check_apartment_exists(*, apartment: str, building: Building) -> None:
    if apartment_number(apartment) > building.apartments:
        raise ApartmentNotInBuilding(apartment=apartment, building=building)


# --- residency verification -------------------------------------------------------------------


class ResidencyError(Exception):
    """A residency step the rules refuse: a stable ``code`` (API) and a message for people."""

    code = "residency_error"
    status = 400

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None):
        self.code, self.status = code or self.code, status or self.status
        super().__init__(message)


class NoHomeBuilding(ResidencyError):
    code = "no_address"

    def __init__(self):
        super().__init__(_("Set your home building and apartment in your profile first."))


class AlreadyVerified(ResidencyError):
    code = "already_verified"
    status = 409

    def __init__(self):
        super().__init__(_("Your address is already verified."))


class CodeRefused(ResidencyError):
    code = "code_refused"


class TooManyCodeTries(ResidencyError):
    code = "too_many_tries"
    status = 429

    def __init__(self, *, retry_at: datetime):
        self.retry_at = retry_at
        super().__init__(
            _("Too many wrong codes. Try again after %(time)s.")
            % {"time": timezone.localtime(retry_at).strftime("%H:%M")}
        )


CODE_MESSAGES = {
    CodeOutcome.WRONG: gettext_lazy(
        "This code is not valid for your building. Check it and try again."
    ),
    CodeOutcome.USED: gettext_lazy("This code has already been used."),
    CodeOutcome.EXPIRED: gettext_lazy("This code has expired. Ask the city for a new letter."),
}
CODE_ATTEMPT_WINDOW = timedelta(hours=1)
FAILED_CODE_OUTCOMES = [CodeOutcome.WRONG, CodeOutcome.USED, CodeOutcome.EXPIRED]


def residency_verify_code(*, user: User, code: str) -> ResidencyClaim:
    """Verify ``user`` as a resident of their home building with a code from a letter.

    Every try is logged (``CodeAttempt``, and the log without the code); after
    ``RESIDENCY_CODE_TRIES_PER_HOUR`` failed tries in an hour further tries are refused.
    The resident's row is locked for the check, so parallel tries cannot exceed the limit;
    a failed try is committed before the error is raised.
    """
    with transaction.atomic():
        resident = resident_lock(user.pk)
        _check_may_verify(resident)
        retry_at = _code_tries_exhausted_until(resident)
        if retry_at is None:
            outcome, claim = _code_use(resident=resident, code=normalize_code(code))
        else:
            outcome, claim = CodeOutcome.BLOCKED, None
        CodeAttempt.objects.create(user=resident, outcome=outcome)
    logger.info("residency code try", extra={"user_id": user.pk, "outcome": str(outcome)})
    if outcome == CodeOutcome.BLOCKED:
        raise TooManyCodeTries(retry_at=retry_at)
    if claim is None:
        raise CodeRefused(str(CODE_MESSAGES[outcome]))
    user.verified_building_id = resident.verified_building_id
    user.verified_apartment = resident.verified_apartment
    user.apartment = resident.apartment
    return claim


def _check_may_verify(resident: User) -> None:
    if resident.home_building_id is None:
        raise NoHomeBuilding()
    if resident.verified_building_id is not None:
        raise AlreadyVerified()


def _code_tries_exhausted_until(resident: User) -> datetime | None:
    """When the resident may try again, if their failed tries of the last hour are used up."""
    since = timezone.now() - CODE_ATTEMPT_WINDOW
    failures = list(
        CodeAttempt.objects.filter(
            user=resident, created_at__gt=since, outcome__in=FAILED_CODE_OUTCOMES
        )
        .order_by("created_at")
        .values_list("created_at", flat=True)
    )
    allowed = settings.RESIDENCY_CODE_TRIES_PER_HOUR
    if len(failures) < allowed:
        return None
    return failures[len(failures) - allowed] + CODE_ATTEMPT_WINDOW


def _code_use(*, resident: User, code: str) -> tuple[str, ResidencyClaim | None]:
    """Use the code if it is for the resident's building, unused and unexpired."""
    found = (
        ResidencyCode.objects.select_for_update(of=("self",))
        .select_related("batch")
        .filter(code=code, building_id=resident.home_building_id)
        .first()
    )
    if found is None:
        return CodeOutcome.WRONG, None
    now = timezone.now()
    if found.used_at is not None:
        return CodeOutcome.USED, None
    if found.batch.expires_at <= now:
        return CodeOutcome.EXPIRED, None
    found.used_at, found.used_by = now, resident
    found.save(update_fields=["used_at", "used_by"])
    claim = _residency_verify(
        resident=resident, apartment=found.apartment, method=ClaimMethod.CODE, now=now
    )
    return CodeOutcome.VERIFIED, claim


def _residency_verify(
    *,
    resident: User,
    apartment: str,
    method: str,
    now: datetime,
    claim: ResidencyClaim | None = None,
    decided_by: User | None = None,
    reason: str = "",
) -> ResidencyClaim:
    """Mark the resident verified in their home building and apartment; points once ever."""
    if claim is None:
        ResidencyClaim.objects.filter(user=resident, status=ClaimStatus.PENDING).delete()
        claim = ResidencyClaim(user=resident, building_id=resident.home_building_id)
    apartment = normalize_apartment(apartment)
    claim.apartment = apartment
    claim.status = ClaimStatus.VERIFIED
    claim.method = method
    claim.decided_at = now
    claim.decided_by = decided_by
    claim.reason = reason
    claim.save()
    resident.verified_building_id = resident.home_building_id
    resident.verified_apartment = resident.apartment = apartment
    resident.save(update_fields=["verified_building", "verified_apartment", "apartment"])
    if resident.email_verified:  # points need a confirmed email address
        points_award(
            user_id=resident.pk,
            amount=POINTS_ADDRESS_VERIFIED,
            award=Award(Reason.ADDRESS_VERIFIED, key="address_verified"),
        )
    return claim


def residency_claim_request(*, user: User, note: str = "") -> ResidencyClaim:
    """Ask city staff to verify the resident's home building and apartment by hand."""
    with transaction.atomic():
        resident = resident_lock(user.pk)
        _check_may_verify(resident)
        if not resident.apartment:
            raise ResidencyError(_("Add your apartment number to your profile first."))
        try:
            with transaction.atomic():
                return ResidencyClaim.objects.create(
                    user=resident,
                    building_id=resident.home_building_id,
                    apartment=resident.apartment,
                    method=ClaimMethod.STAFF,
                    note=note.strip()[:500],
                )
        except IntegrityError as error:
            raise ResidencyError(
                _("Your claim is already waiting for the city staff."),
                code="claim_pending",
                status=409,
            ) from error


def residency_claim_decide(
    *, claim_id: int, staff: User, approve: bool, reason: str
) -> ResidencyClaim:
    """A staff member approves or declines a pending claim, giving the reason; the resident
    is notified. A claim whose resident has moved or changed apartment since cannot be
    approved."""
    reason = reason.strip()
    if not reason:
        raise ResidencyError(_("Give the reason for the decision."))
    now = timezone.now()
    with transaction.atomic():
        claim = (
            ResidencyClaim.objects.select_related("building")
            .select_for_update(of=("self",))
            .get(pk=claim_id)
        )
        if claim.status != ClaimStatus.PENDING:
            raise ResidencyError(_("This claim has already been decided."))
        resident = resident_lock(claim.user_id)
        if approve and (
            resident.home_building_id != claim.building_id or resident.apartment != claim.apartment
        ):
            raise ResidencyError(
                _(
                    "The resident has moved or changed apartment since the claim: "
                    "it cannot be approved."
                )
            )
        if approve:
            _residency_verify(
                resident=resident,
                apartment=claim.apartment,
                method=ClaimMethod.STAFF,
                now=now,
                claim=claim,
                decided_by=staff,
                reason=reason,
            )
        else:
            claim.status = ClaimStatus.REJECTED
            claim.decided_at, claim.decided_by, claim.reason = now, staff, reason
            claim.save(update_fields=["status", "decided_at", "decided_by", "reason"])
        kind = (
            NotificationKind.RESIDENCY_VERIFIED if approve else NotificationKind.RESIDENCY_REJECTED
        )
        notifications_create(
            user_ids=[resident.pk],
            kind=kind,
            key=f"residency_claim:{claim.pk}",
            params={"address": claim.building.address, "reason": claim.reason},
            url=reverse("my_building"),
        )
    return claim


def residency_codes_generate(
    *, buildings: Iterable[Building], label: str, created_by: User
) -> ResidencyCodeBatch:
    """One new code for every apartment of these buildings, valid for
    ``RESIDENCY_CODE_VALID_DAYS``; earlier codes stay valid until they expire."""
    expires_at = timezone.now() + timedelta(days=settings.RESIDENCY_CODE_VALID_DAYS)
    with transaction.atomic():
        batch = ResidencyCodeBatch.objects.create(
            label=label[:300], created_by=created_by, expires_at=expires_at
        )
        ResidencyCode.objects.bulk_create(
            (
                ResidencyCode(batch=batch, building=building, apartment=str(number))
                for building in buildings
                for number in range(1, building.apartments + 1)
            ),
            batch_size=2000,
        )
    return batch


# --- sign-up addresses (personal data, kept SIGNUP_RECORD_RETENTION_DAYS) ----------------------

IPV4_SUBNET_PREFIX = 24
IPV6_SUBNET_PREFIX = 64


def client_address(ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The address as it is meant: an IPv4 address mapped into IPv6 (``::ffff:203.0.113.5``)
    is that IPv4 address. ``ValueError`` if it is not an address."""
    address = ipaddress.ip_address(ip)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def subnet_of(ip: str) -> str:
    """The /24 (IPv4) or /64 (IPv6) network of an address, as CIDR text."""
    address = client_address(ip)
    prefix = IPV4_SUBNET_PREFIX if address.version == 4 else IPV6_SUBNET_PREFIX
    return str(ipaddress.ip_network((address, prefix), strict=False))


def signup_record(*, user: User, ip: str | None) -> SignupRecord | None:
    """Remember where the account was created from; nothing if the address is unknown or
    not an address (a misconfigured proxy header must not stop a sign-up)."""
    try:
        address = str(client_address(ip or ""))
    except ValueError:
        logger.warning("sign-up without a usable client address", extra={"user_id": user.pk})
        return None
    return SignupRecord.objects.create(user=user, ip=address, subnet=subnet_of(address))


def signup_records_purge(*, now: datetime | None = None) -> int:
    """Delete sign-up addresses older than the retention period; how many went."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.SIGNUP_RECORD_RETENTION_DAYS)
    deleted, _by_model = SignupRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def signup_records_erase(*, user: User) -> None:
    """The resident's sign-up addresses go with their personal data."""
    SignupRecord.objects.filter(user=user).delete()


# --- suspension (docs/decisions/0009) ---------------------------------------------------------


class SuspensionError(Exception):
    """A suspension or reinstatement the rules refuse; ``str()`` says why."""


def account_suspend(*, user_ids: Iterable[int], reason: str, by: User) -> list[int]:
    """Suspend these accounts, with the reason the resident reads; returns the ids suspended
    now (accounts already suspended keep their first suspension). Staff accounts are
    refused: they lose their staff status instead.

    The rows are locked (FOR UPDATE, in id order): a vote or a redemption in flight holds
    a FOR SHARE lock on its resident's row, so it either commits before the suspension or
    waits for it and is refused (``polls.services.ballot_cast``, ``rewards.services``).
    """
    reason = reason.strip()
    if not reason:
        raise SuspensionError(_("Give the reason for the suspension: the resident will read it."))
    if len(reason) > User._meta.get_field("suspension_reason").max_length:
        raise SuspensionError(_("The reason is too long: at most 500 characters."))
    with transaction.atomic():
        accounts = list(
            User.objects.filter(pk__in=list(user_ids))
            .order_by("pk")
            .select_for_update()
            .only("pk", "email", "is_staff", "is_superuser", "suspended_at")
        )
        refused = [user.email for user in accounts if user.is_staff or user.is_superuser]
        if refused:
            raise SuspensionError(
                _("Staff accounts cannot be suspended (remove their staff status instead): %s")
                % ", ".join(refused)
            )
        ids = [user.pk for user in accounts if user.suspended_at is None]
        now = timezone.now()  # in effect from here: what held the rows committed before
        User.objects.filter(pk__in=ids).update(
            suspended_at=now, suspension_reason=reason, suspended_by=by
        )
        notifications_create(
            user_ids=ids,
            kind=NotificationKind.ACCOUNT_SUSPENDED,
            key=f"account:suspended:{now:%Y%m%d%H%M%S%f}",
            params={"reason": reason},
            url=reverse("profile"),
        )
    logger.info("accounts suspended", extra={"user_ids": ids, "by": by.pk})
    return ids


def account_reinstate(*, user_ids: Iterable[int], by: User) -> list[int]:
    """Lift the suspension of these accounts; returns the ids reinstated now. Points that
    were refused meanwhile are not paid afterwards; past ballots flagged by the election
    commission stay flagged until its next ``ballots_flag`` run (docs/decisions/0009)."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            User.objects.filter(pk__in=list(user_ids), suspended_at__isnull=False)
            .order_by("pk")
            .select_for_update()
            .values_list("pk", flat=True)
        )
        User.objects.filter(pk__in=ids).update(
            suspended_at=None, suspension_reason="", suspended_by=None
        )
        notifications_create(
            user_ids=ids,
            kind=NotificationKind.ACCOUNT_REINSTATED,
            key=f"account:reinstated:{now:%Y%m%d%H%M%S%f}",
            params={},
            url=reverse("profile"),
        )
    logger.info("accounts reinstated", extra={"user_ids": ids, "by": by.pk})
    return ids


# --- erasing a resident's personal data (docs/decisions/0010) ---------------------------------

# What an erased account's row holds (besides its address, language and time of erasure).
ERASED_ACCOUNT = {
    "first_name": "",
    "last_name": "",
    "home_building": None,
    "home_building_changed_at": None,
    "apartment": "",
    "birth_year": None,
    "gender": "",
    "email_notifications": False,
    "verified_building": None,
    "verified_apartment": "",
    "invited_by": None,
    "last_login": None,
    "is_active": False,
    "is_staff": False,
    "is_superuser": False,
}


def personal_data_erase(*, user: User) -> None:
    """Erase what accounts keeps about the resident and anonymise the account, inside the
    caller's transaction (accounts.privacy.account_delete).

    The row itself stays, so that participations, the ledger, the wallet and redemptions
    still point at something and every count and balance still adds up; nothing in it or
    next to it names the person any more, and it can no longer log in: no email address,
    no usable password, inactive, every session and app token ended, no authenticator.
    """
    for session in UserSession.objects.filter(user=user):
        session.end()
    _admin_log_blank(user)
    EmailAddress.objects.filter(user=user).delete()
    Authenticator.objects.filter(user=user).delete()
    Notification.objects.filter(user=user).delete()
    ResidencyClaim.objects.filter(user=user).delete()
    CodeAttempt.objects.filter(user=user).delete()
    ResidencyCode.objects.filter(used_by=user).update(used_by=None)  # the code stays used
    signup_records_erase(user=user)
    user.groups.clear()
    user.user_permissions.clear()
    erased = ERASED_ACCOUNT | {
        "email": f"erased-{user.pk}@erased.invalid",
        "language": settings.LANGUAGE_CODE,
        "erased_at": timezone.now(),
    }
    for field, value in erased.items():
        setattr(user, field, value)
    user.set_unusable_password()  # also ends any session not listed above (its hash changes)
    user.save(update_fields=[*erased, "password"])


def _admin_log_blank(user: User) -> None:
    """Django's admin log names each record an admin edited by its ``str()``: the account's
    address, a claim's address, building and apartment. Those entries stay, nameless (our
    own audit log names records by number)."""
    records = Q()
    for model, pks in (
        (User, [user.pk]),
        (ResidencyClaim, ResidencyClaim.objects.filter(user=user).values_list("pk", flat=True)),
        (EmailAddress, EmailAddress.objects.filter(user=user).values_list("pk", flat=True)),
    ):
        records |= Q(
            content_type=ContentType.objects.get_for_model(model),
            object_id__in=[str(pk) for pk in pks],
        )
    LogEntry.objects.filter(records).update(object_repr="", change_message="")
