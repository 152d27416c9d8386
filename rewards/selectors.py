"""Reads of points and rewards shared by pages, the audit and (later) the API."""

from dataclasses import dataclass

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from accounts.models import User
from rewards.models import Achievement, LedgerEntry, Level, Redemption, Reward, Wallet
from rewards.services import SPENDING_REASONS, Standing, standing


def resident_standing(*, user: User) -> Standing:
    wallet = Wallet.objects.filter(user_id=user.pk).first()
    return standing(
        balance=wallet.balance if wallet else 0,
        lifetime=wallet.lifetime if wallet else 0,
        levels=list(Level.objects.all()),
    )


def resident_achievements(*, user: User) -> QuerySet[Achievement]:
    return Achievement.objects.filter(user_id=user.pk)


def ledger_history(*, user: User) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(user_id=user.pk).order_by("-created_at", "-pk")


def rewards_catalogue(*, category: str = "", affordable_for: int | None = None) -> QuerySet[Reward]:
    """Rewards on offer now (inside their availability window)."""
    now = timezone.now()
    rewards = Reward.objects.select_related("required_level").filter(
        Q(available_from__isnull=True) | Q(available_from__lte=now),
        Q(available_until__isnull=True) | Q(available_until__gt=now),
    )
    if category:
        rewards = rewards.filter(category=category)
    if affordable_for is not None:
        rewards = rewards.filter(cost__lte=affordable_for)
    return rewards


def resident_redemptions(*, user: User) -> QuerySet[Redemption]:
    return Redemption.objects.filter(user_id=user.pk).select_related("reward")


def donated_total() -> int:
    return (
        Redemption.objects.filter(reward__is_donation=True)
        .exclude(status="cancelled")
        .aggregate(total=Sum("cost"))["total"]
        or 0
    )


@dataclass(frozen=True)
class WalletMismatch:
    user_id: int
    balance: int
    ledger_balance: int
    lifetime: int
    ledger_lifetime: int


def wallet_mismatches() -> list[WalletMismatch]:
    """Every wallet whose cached sums differ from its ledger (and ledgers without a wallet).
    One GROUP BY over the ledger, compared in the database."""
    sums = LedgerEntry.objects.values("user_id").annotate(
        balance=Sum("amount"), lifetime=Sum("amount", filter=~Q(reason__in=SPENDING_REASONS))
    )
    by_user = {row["user_id"]: (row["balance"], row["lifetime"] or 0) for row in sums}
    wallets = {
        user_id: (balance, lifetime)
        for user_id, balance, lifetime in Wallet.objects.values_list(
            "user_id", "balance", "lifetime"
        )
    }
    mismatches = []
    for user_id in sorted(by_user.keys() | wallets.keys()):
        ledger = by_user.get(user_id, (0, 0))
        cached = wallets.get(user_id, (0, 0))
        if ledger != cached:
            mismatches.append(WalletMismatch(user_id, cached[0], ledger[0], cached[1], ledger[1]))
    return mismatches
