"""Points and rewards: an append-only ledger, a wallet per resident that caches its sum,
levels, the rewards catalogue and redemptions."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from civic.uploads import SafeImageField

VOUCHER_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_voucher_code() -> str:
    return "-".join("".join(secrets.choice(VOUCHER_ALPHABET) for _ in range(4)) for _ in range(3))


class Reason(models.TextChoices):
    VOTE = "vote", _("Voted in a poll")
    PROFILE_COMPLETED = "profile_completed", _("Completed the profile")
    ADDRESS_VERIFIED = "address_verified", _("Verified the home address")
    INVITE = "invite", _("Invited a neighbour")
    BUILDING_SURVEY = "building_survey", _("Building survey")
    NOVELTY_RATING = "novelty_rating", _("Rated a city novelty")
    REDEMPTION = "redemption", _("Reward")
    REFUND = "refund", _("Refund")
    ADJUSTMENT = "adjustment", _("Adjustment by the city")


class LedgerEntry(models.Model):
    """One change of a resident's points. Never updated or deleted (a database trigger
    refuses it); a correction is a new entry. ``key`` makes every award happen once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    amount = models.IntegerField(_("points"))
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    key = models.CharField(_("idempotency key"), max_length=100)
    source = models.CharField(_("caused by"), max_length=100, blank=True)  # e.g. "poll:12"
    comment = models.CharField(_("comment"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="ledger_award_once"),
            models.CheckConstraint(condition=~Q(amount=0), name="ledger_amount_not_zero"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.amount:+d} ({self.reason})"


class Wallet(models.Model):
    """The ledger's sums for one resident, changed only in the same transaction as an entry."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, primary_key=True, related_name="wallet"
    )
    balance = models.IntegerField(_("balance"), default=0)
    lifetime = models.IntegerField(_("points earned"), default=0)

    class Meta:
        verbose_name = _("wallet")
        verbose_name_plural = _("wallets")
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="wallet_balance_not_negative"),
            models.CheckConstraint(
                condition=Q(lifetime__gte=0), name="wallet_lifetime_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.balance}"


class Level(models.Model):
    """A status earned by lifetime points ("Активный гражданин" at 1,000 opens the shop)."""

    name = models.CharField(_("name"), max_length=100)
    min_lifetime = models.PositiveIntegerField(_("from lifetime points"), unique=True)
    opens_shop = models.BooleanField(_("opens the shop"), default=False)

    class Meta:
        ordering = ["min_lifetime"]
        verbose_name = _("level")
        verbose_name_plural = _("levels")

    def __str__(self) -> str:
        return self.name


class Category(models.TextChoices):
    THEATRE = "theatre", _("Theatres")
    MUSEUM = "museum", _("Museums")
    PARKING = "parking", _("Parking")
    TRANSPORT = "transport", _("Transport")
    SOUVENIR = "souvenir", _("Souvenirs")
    CHARITY = "charity", _("Charity")


class CategoryLimit(models.Model):
    """At most this many points a month may be spent on one category's rewards."""

    category = models.CharField(_("category"), max_length=20, choices=Category.choices, unique=True)
    points_per_month = models.PositiveIntegerField(_("points a month"))

    class Meta:
        verbose_name = _("monthly category limit")
        verbose_name_plural = _("monthly category limits")

    def __str__(self) -> str:
        return f"{self.get_category_display()}: {self.points_per_month}"


class Reward(models.Model):
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    image = SafeImageField(_("image"), upload_to="rewards/", blank=True)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    cost = models.PositiveIntegerField(_("cost in points"))
    stock = models.PositiveIntegerField(
        _("stock"), null=True, blank=True, help_text=_("Empty: unlimited.")
    )
    per_resident_limit = models.PositiveIntegerField(
        _("per resident"), null=True, blank=True, help_text=_("Empty: no limit.")
    )
    available_from = models.DateTimeField(_("available from"), null=True, blank=True)
    available_until = models.DateTimeField(_("available until"), null=True, blank=True)
    required_level = models.ForeignKey(
        Level, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("level needed")
    )
    is_donation = models.BooleanField(
        _("donation"), default=False, help_text=_("Points go to charity; no voucher.")
    )

    class Meta:
        ordering = ["cost", "pk"]
        verbose_name = _("reward")
        verbose_name_plural = _("rewards")
        constraints = [
            models.CheckConstraint(condition=Q(cost__gt=0), name="reward_costs_points"),
        ]

    def __str__(self) -> str:
        return self.title


class RedemptionStatus(models.TextChoices):
    ISSUED = "issued", _("Issued")
    FULFILLED = "fulfilled", _("Fulfilled")
    CANCELLED = "cancelled", _("Cancelled, points refunded")


class Redemption(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="redemptions"
    )
    reward = models.ForeignKey(Reward, on_delete=models.PROTECT, related_name="redemptions")
    cost = models.PositiveIntegerField(_("points spent"))
    voucher = models.CharField(_("voucher"), max_length=20, unique=True, default=new_voucher_code)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=RedemptionStatus.choices,
        default=RedemptionStatus.ISSUED,
    )
    created_at = models.DateTimeField(_("redeemed"), auto_now_add=True)
    closed_at = models.DateTimeField(_("fulfilled or cancelled"), null=True, blank=True)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("redemption")
        verbose_name_plural = _("redemptions")
        indexes = [models.Index(fields=["user", "reward"], name="redemption_user_reward")]

    def __str__(self) -> str:
        return self.voucher


class AchievementKind(models.TextChoices):
    MONTHLY_ACTIVITY = "monthly_activity", _("Mark of activity: voted in every poll open to you")


class Achievement(models.Model):
    """An achievement for a period (e.g. "2026-11"), awarded once per resident and period."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="achievements"
    )
    kind = models.CharField(_("kind"), max_length=30, choices=AchievementKind.choices)
    period = models.CharField(_("period"), max_length=7)
    created_at = models.DateTimeField(_("awarded"), auto_now_add=True)

    class Meta:
        ordering = ["-period", "kind"]
        verbose_name = _("achievement")
        verbose_name_plural = _("achievements")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "period"], name="achievement_once_per_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.kind} {self.period}"
