"""The user: email is the login; the resident profile (home, age, gender, language) lives on it.

Residency verification (docs/decisions/0006): a resident proves they live in their home
building with a one-time code posted to the apartment, or a staff member approves their
claim. ``User.verified_building`` is the current verified home; ``ResidencyClaim`` keeps
every claim and how it ended.
"""

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from civic.codes import random_code
from civic.models import Building

MIN_BIRTH_YEAR = 1900


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email: str, password: str | None = None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)

    def with_email_verified(self) -> models.QuerySet:
        """Users annotated with ``email_verified`` (see ``User.email_verified``), no extra query."""
        return self.annotate(email_verified=email_verified_exists())


def email_verified_exists() -> models.Exists:
    """Whether the user's current email address is confirmed, as an expression to annotate
    a user queryset with."""
    address = verified_address(user=models.OuterRef("pk"), email=models.OuterRef("email"))
    return models.Exists(address)


class Gender(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    UNDISCLOSED = "undisclosed", _("Prefer not to say")


class User(AbstractUser):
    username = None
    email = models.EmailField(_("email address"), unique=True)

    home_building = models.ForeignKey(
        Building,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="residents",
        verbose_name=_("home building"),
    )
    home_building_changed_at = models.DateTimeField(
        _("home building last changed"), null=True, blank=True, editable=False
    )
    apartment = models.CharField(_("apartment"), max_length=10, blank=True)
    birth_year = models.PositiveSmallIntegerField(_("birth year"), null=True, blank=True)
    gender = models.CharField(_("gender"), max_length=12, choices=Gender.choices, blank=True)
    language = models.CharField(
        _("preferred language"),
        max_length=8,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
    )
    email_notifications = models.BooleanField(
        _("email me my notifications"),
        default=True,
        help_text=_("Notifications always appear on the site; this also sends them by email."),
    )
    verified_building = models.ForeignKey(
        Building,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="verified_residents",
        verbose_name=_("verified home building"),
        editable=False,
    )
    verified_apartment = models.CharField(
        _("verified apartment"), max_length=10, blank=True, editable=False
    )
    invited_by = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invitees",
        verbose_name=_("invited by"),
    )
    # Suspension (docs/decisions/0009): a suspended account cannot vote, rate, comment, earn
    # or redeem points. Set and cleared only by accounts.services.account_suspend/_reinstate.
    suspended_at = models.DateTimeField(_("suspended"), null=True, blank=True, editable=False)
    suspension_reason = models.CharField(
        _("reason for suspension"), max_length=500, blank=True, editable=False
    )
    suspended_by = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("suspended by"),
        editable=False,
    )
    # Deleted by its resident (docs/decisions/0010): the row stays, anonymised, so the
    # participations, ledger and redemptions pointing at it still add up; it cannot log in.
    erased_at = models.DateTimeField(_("deleted"), null=True, blank=True, editable=False)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        permissions = [("suspend_user", _("Can suspend and reinstate accounts"))]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(birth_year__isnull=True)
                | models.Q(birth_year__gte=MIN_BIRTH_YEAR),
                name="user_birth_year_plausible",
            ),
            # Verification is for the home building only: moving away ends it.
            models.CheckConstraint(
                condition=models.Q(verified_building__isnull=True)
                | models.Q(verified_building=models.F("home_building")),
                name="user_verified_building_is_home",
            ),
            # Verified means a building and an apartment; not verified, neither.
            models.CheckConstraint(
                condition=models.Q(verified_building__isnull=True, verified_apartment="")
                | (models.Q(verified_building__isnull=False) & ~models.Q(verified_apartment="")),
                name="user_verified_apartment_with_building",
            ),
            # A suspension always says why; a reinstated account keeps no stale reason.
            models.CheckConstraint(
                condition=models.Q(suspended_at__isnull=True, suspension_reason="")
                | (models.Q(suspended_at__isnull=False) & ~models.Q(suspension_reason="")),
                name="user_suspension_has_reason",
            ),
            models.CheckConstraint(
                condition=models.Q(erased_at__isnull=True) | models.Q(is_active=False),
                name="user_erased_is_inactive",
            ),
        ]

    def __str__(self) -> str:
        return self.email

    @cached_property
    def email_verified(self) -> bool:
        """Whether the account's address is confirmed: votes and points need it.
        ``accounts.selectors.resident_with_home`` annotates it, so there it costs no query."""
        return verified_address(user=self.pk, email=self.email).exists()


def verified_address(*, user, email) -> models.QuerySet:
    """The account's confirmed address, if it is (``user`` and ``email`` may be OuterRefs)."""
    from allauth.account.models import EmailAddress  # allauth's models need ours loaded

    return EmailAddress.objects.filter(user=user, email__iexact=email, verified=True)


class NotificationKind(models.TextChoices):
    RESULTS_PUBLISHED = "results_published", _("Poll results published")
    VOUCHER = "voucher", _("Reward voucher")
    RESIDENCY_VERIFIED = "residency_verified", _("Address verified")
    RESIDENCY_REJECTED = "residency_rejected", _("Address claim declined")
    SURVEY_CREATED = "survey_created", _("New survey in my building")
    SURVEY_HIDDEN = "survey_hidden", _("My survey was hidden")
    ACCOUNT_SUSPENDED = "account_suspended", _("Account suspended")
    ACCOUNT_REINSTATED = "account_reinstated", _("Account reinstated")
    DECISION_RECORDED = "decision_recorded", _("Decision taken after a poll")
    DECISION_DONE = "decision_done", _("Decision after a poll carried out")
    DISCUSSION_ANSWER = "discussion_answer", _("Official answer to my proposal")
    DISCUSSION_POST_HIDDEN = "discussion_post_hidden", _("My post in a discussion was hidden")
    DISCUSSION_SUMMARY = "discussion_summary", _("Summary of a discussion I took part in")


class Notification(models.Model):
    """An in-app notification, also emailed once. ``key`` names what it is about (for example
    ``poll:12:results``); one per user and key, so nothing is announced twice."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=40, choices=NotificationKind.choices)
    key = models.CharField(max_length=100)
    params = models.JSONField(default=dict)
    url = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="notification_once_per_key")
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(emailed_at__isnull=True),
                name="notification_to_email",
            ),
            models.Index(
                fields=["user"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.key}"


# --- residency verification -------------------------------------------------------------------

CODE_LENGTH = 10  # 32**10 ≈ 10**15 codes against 5 tries an hour


def new_residency_code() -> str:
    return random_code(CODE_LENGTH)


class ClaimStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for staff")
    VERIFIED = "verified", _("Verified")
    REJECTED = "rejected", _("Declined")
    ENDED = "ended", _("Ended (moved away)")


class ClaimMethod(models.TextChoices):
    CODE = "code", _("Code from a letter")
    STAFF = "staff", _("Approved by staff")


class ResidencyClaim(models.Model):
    """A resident's claim to live in ``building``, ``apartment``: how it was verified (or
    declined, with the reason shown to the resident), and when it ended."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="residency_claims", verbose_name=_("resident")
    )
    building = models.ForeignKey(
        Building, on_delete=models.PROTECT, related_name="+", verbose_name=_("building")
    )
    apartment = models.CharField(_("apartment"), max_length=10)
    status = models.CharField(
        _("status"), max_length=10, choices=ClaimStatus.choices, default=ClaimStatus.PENDING
    )
    method = models.CharField(_("method"), max_length=10, choices=ClaimMethod.choices)
    note = models.CharField(_("resident's note"), max_length=500, blank=True)
    reason = models.CharField(_("staff's reason"), max_length=500, blank=True)
    decided_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    created_at = models.DateTimeField(_("claimed"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("residency claim")
        verbose_name_plural = _("residency claims")
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(status__in=["pending", "verified"]),
                name="residency_claim_one_open_per_user",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.building}, {self.apartment}"


class ResidencyCodeBatch(models.Model):
    """Codes generated together for one or more buildings; downloaded as CSV and as letters."""

    label = models.CharField(_("buildings"), max_length=300)
    created_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name=_("generated by")
    )
    created_at = models.DateTimeField(_("generated"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("batch of residency codes")
        verbose_name_plural = _("batches of residency codes")
        permissions = [("download_residency_codes", _("Can download residency codes"))]

    def __str__(self) -> str:
        return self.label


class ResidencyCode(models.Model):
    """A one-time code for one apartment; used once, until ``batch.expires_at``."""

    batch = models.ForeignKey(ResidencyCodeBatch, on_delete=models.CASCADE, related_name="codes")
    building = models.ForeignKey(Building, on_delete=models.PROTECT, related_name="+")
    apartment = models.CharField(_("apartment"), max_length=10)
    code = models.CharField(
        _("code"), max_length=CODE_LENGTH, unique=True, default=new_residency_code
    )
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    used_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("used by"),
    )

    class Meta:
        ordering = ["building_id", "pk"]
        verbose_name = _("residency code")
        verbose_name_plural = _("residency codes")

    def __str__(self) -> str:
        return f"{self.building}, {self.apartment}"


class CodeOutcome(models.TextChoices):
    VERIFIED = "verified", _("Verified")
    WRONG = "wrong", _("Wrong code")
    USED = "used", _("Code already used")
    EXPIRED = "expired", _("Code expired")
    BLOCKED = "blocked", _("Refused: too many tries")


class CodeAttempt(models.Model):
    """Every code a resident entered, and what came of it (the code itself is not kept)."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="+", verbose_name=_("resident")
    )
    outcome = models.CharField(_("outcome"), max_length=10, choices=CodeOutcome.choices)
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("code attempt")
        verbose_name_plural = _("code attempts")
        indexes = [models.Index(fields=["user", "created_at"], name="code_attempt_user_time")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.outcome}"


# --- where sign-ups come from (personal data: kept SIGNUP_RECORD_RETENTION_DAYS) ---------------


class SignupRecord(models.Model):
    """The address an account was created from, and its subnet (/24 IPv4, /64 IPv6), for the
    suspicious-accounts report. Personal data: a beat task deletes rows older than
    ``SIGNUP_RECORD_RETENTION_DAYS``; the resident's data export includes them."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="signup_records", verbose_name=_("resident")
    )
    ip = models.GenericIPAddressField(_("IP address"))
    subnet = models.CharField(_("subnet"), max_length=49)  # "203.0.113.0/24", "2001:db8::/64"
    created_at = models.DateTimeField(_("signed up"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("sign-up address")
        verbose_name_plural = _("sign-up addresses")
        indexes = [
            models.Index(fields=["created_at"], name="signup_record_time"),
            models.Index(fields=["subnet", "created_at"], name="signup_record_subnet"),
        ]

    def __str__(self) -> str:
        return f"{self.ip} ({self.user_id})"


class ErasedEmail(models.Model):
    """A deleted account's address, as a keyed hash, while a poll it voted in is still open:
    signing up again with it would vote twice (docs/decisions/0010). Kept until
    ``blocked_until`` (the last of those polls closes), then deleted by a daily task."""

    digest = models.CharField(max_length=64, db_index=True)
    blocked_until = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["blocked_until"], name="erased_email_until")]

    def __str__(self) -> str:
        return f"{self.digest[:12]}… until {self.blocked_until:%Y-%m-%d %H:%M}"
