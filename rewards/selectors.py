"""Reads of points and rewards shared by pages, the audit and (later) the API."""

from dataclasses import dataclass

from django.db import connection
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from accounts.models import User
from rewards.models import (
    Achievement,
    LedgerEntry,
    Level,
    Redemption,
    RedemptionStatus,
    Reward,
    Wallet,
)
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
        .exclude(status=RedemptionStatus.CANCELLED)
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


WALLET_MISMATCHES_SQL = """
    SELECT COALESCE(w.user_id, l.user_id),
           COALESCE(w.balance, 0), COALESCE(l.balance, 0),
           COALESCE(w.lifetime, 0), COALESCE(l.lifetime, 0)
    FROM rewards_wallet w
    FULL OUTER JOIN (
        SELECT user_id, sum(amount) AS balance,
               COALESCE(sum(amount) FILTER (WHERE reason <> ALL(%(spending)s)), 0) AS lifetime
        FROM rewards_ledgerentry GROUP BY user_id
    ) l ON l.user_id = w.user_id
    WHERE COALESCE(w.balance, 0) <> COALESCE(l.balance, 0)
       OR COALESCE(w.lifetime, 0) <> COALESCE(l.lifetime, 0)
    ORDER BY 1
"""


def wallet_mismatches() -> list[WalletMismatch]:
    """Every wallet whose cached sums differ from its ledger (and ledgers without a wallet).

    One statement, so one snapshot: a vote committing meanwhile cannot look like a
    mismatch; only the differing rows leave the database."""
    with connection.cursor() as cursor:
        cursor.execute(WALLET_MISMATCHES_SQL, {"spending": [str(r) for r in SPENDING_REASONS]})
        return [WalletMismatch(*row) for row in cursor.fetchall()]


def personal_data(*, user: User) -> dict:
    """The resident's points (the wallet and every ledger entry), rewards taken with their
    vouchers, and achievements, for their data export (accounts/privacy.py)."""
    wallet = Wallet.objects.filter(user_id=user.pk).first()
    return {
        "balance": wallet.balance if wallet else 0,
        "points_earned": wallet.lifetime if wallet else 0,
        "ledger": list(
            ledger_history(user=user)
            .reverse()
            .values("amount", "reason", "source", "comment", "created_at")
        ),
        "redemptions": [
            {
                "reward": redemption.reward.title,
                "cost": redemption.cost,
                "voucher": redemption.voucher,
                "status": redemption.status,
                "redeemed_at": redemption.created_at,
                "closed_at": redemption.closed_at,
                "cancel_reason": redemption.cancel_reason,
            }
            for redemption in resident_redemptions(user=user).order_by("pk")
        ],
        "achievements": list(
            resident_achievements(user=user).order_by("pk").values("kind", "period", "created_at")
        ),
    }
