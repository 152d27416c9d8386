"""Writes to points and rewards. Every change of points is a ledger entry and the matching
wallet change, in one transaction; the database keeps the balance from going negative.

A suspended account's points are frozen (docs/decisions/0009): awards to it are refused,
not held (nothing is paid for the time of the suspension, even after reinstatement), and
it cannot redeem. The city's own moves still apply: an admin's adjustment (to take back
farmed points) and the refund of a cancelled redemption."""

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import NotificationKind, User
from accounts.notifications import notifications_create
from accounts.rules import AccountSuspended, suspension_message
from rewards.models import (
    Achievement,
    AchievementKind,
    CategoryLimit,
    Level,
    Reason,
    Redemption,
    RedemptionStatus,
    Reward,
    Wallet,
)

POINTS_PROFILE_COMPLETED = 50
POINTS_INVITE = 50  # to each of the two: who invited, and who was invited and voted
POINTS_ADDRESS_VERIFIED = 30  # once per resident, ever: moving and verifying again earns nothing
# Spending and its refunds move the balance only; everything else is earned (lifetime).
SPENDING_REASONS = (Reason.REDEMPTION, Reason.REFUND)
# What still moves a suspended account's points: spending is refused before it gets here.
NOT_FROZEN_REASONS = (Reason.REDEMPTION, Reason.REFUND, Reason.ADJUSTMENT)


class RewardsError(Exception):
    """A refusal with a stable ``code`` (for the API), an HTTP ``status`` and a message for
    people."""

    code = "rewards_error"
    status = 409


class InsufficientPoints(RewardsError):
    code = "insufficient_points"


class OutOfStock(RewardsError):
    code = "out_of_stock"


class LimitReached(RewardsError):
    code = "limit_reached"


class NotAvailable(RewardsError):
    code = "not_available"


class LevelTooLow(RewardsError):
    code = "level_too_low"


class NotCancellable(RewardsError):
    code = "not_cancellable"


class AccountFrozen(RewardsError):
    code = AccountSuspended.code
    status = AccountSuspended.status

    def __init__(self):
        super().__init__(suspension_message())


@dataclass(frozen=True)
class Award:
    reason: str
    key: str
    source: str = ""
    comment: str = ""


def points_award(*, user_id: int, amount: int, award: Award) -> bool:
    """Credit ``amount`` points once per ``award.key``; False if it was credited before
    (the ledger's unique key decides, also when twenty requests arrive at once) or the
    account is suspended (its points are frozen)."""
    if amount <= 0:
        raise ValueError("an award is a positive number of points")
    return _ledger_write(user_id=user_id, amount=amount, award=award)


def points_adjust(*, user_id: int, amount: int, comment: str, key: str) -> bool:
    """A city admin's correction, positive or negative, with its reason; once per ``key``."""
    if not comment.strip():
        raise RewardsError(_("An adjustment needs a reason."))
    return _ledger_write(
        user_id=user_id, amount=amount, award=Award(Reason.ADJUSTMENT, key, comment=comment)
    )


# A repeated key, or an award to a suspended account, inserts nothing and returns no row:
# no savepoint, no exception, on the path every vote takes (bench/vote_load.py).
LEDGER_INSERT_SQL = """
    INSERT INTO rewards_ledgerentry (user_id, amount, reason, key, source, comment, created_at)
    SELECT u.id, %s, %s, %s, %s, %s, now()
    FROM accounts_user u
    WHERE u.id = %s AND (%s OR u.suspended_at IS NULL)
    ON CONFLICT ON CONSTRAINT ledger_award_once DO NOTHING
    RETURNING id
"""
# A credit to a wallet that may not exist yet (the upsert of both credit statements).
WALLET_CREDIT_ON_CONFLICT = """
    ON CONFLICT (user_id) DO UPDATE
    SET balance = rewards_wallet.balance + EXCLUDED.balance,
        lifetime = rewards_wallet.lifetime + EXCLUDED.lifetime
"""
WALLET_CREDIT_SQL = (
    "INSERT INTO rewards_wallet (user_id, balance, lifetime) VALUES (%s, %s, %s)"  # noqa: S608
    + WALLET_CREDIT_ON_CONFLICT
)


def _ledger_write(*, user_id: int, amount: int, award: Award) -> bool:
    """The entry and the wallet change together (inside the caller's transaction when there
    is one); False, with nothing written, if the key was credited before. Only a debit,
    which the wallet's CHECK may refuse, needs a savepoint to leave the caller's
    transaction usable."""
    earned = 0 if award.reason in SPENDING_REASONS else amount
    with transaction.atomic(savepoint=amount < 0), connection.cursor() as cursor:
        cursor.execute(
            LEDGER_INSERT_SQL,
            [
                *(amount, award.reason, award.key, award.source, award.comment),
                *(user_id, award.reason in NOT_FROZEN_REASONS),
            ],
        )
        if cursor.fetchone() is None:
            return False
        if amount > 0:  # a credit cannot break the CHECK: one upsert
            cursor.execute(WALLET_CREDIT_SQL, [user_id, amount, earned])
        else:
            _wallet_change(user_id=user_id, amount=amount, earned=earned)
    return True


def reward_restock(*, reward_id: int, change: int) -> None:
    """Add (or remove) stock relative to what it is now, never writing back a stale number
    read earlier (which would undo redemptions made meanwhile). One conditional UPDATE:
    a removal that a redemption meanwhile made too large changes nothing."""
    changed = Reward.objects.filter(
        pk=reward_id, stock__isnull=False, stock__gte=max(-change, 0)
    ).update(stock=F("stock") + change)
    if change < 0 and not changed:
        raise RewardsError(_("There is not that much stock left to remove."))


def _wallet_change(*, user_id: int, amount: int, earned: int) -> None:
    """Add ``amount`` to the balance and ``earned`` to lifetime points in one UPDATE; the
    CHECK constraint turns an overdraft into ``InsufficientPoints`` and the caller's rollback."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            # A CHECK applies to the row an INSERT proposes even when it conflicts, so a
            # debit cannot be an upsert: make sure the wallet exists, then change it.
            _wallet_ensure(cursor, user_id=user_id)
            cursor.execute(
                "UPDATE rewards_wallet SET balance = balance + %s, lifetime = lifetime + %s "
                "WHERE user_id = %s",
                [amount, earned, user_id],
            )
    except IntegrityError as error:
        raise InsufficientPoints(_("You do not have enough points.")) from error


def vote_credits(*, user: User, poll_id: int, points: int, reason: str = Reason.VOTE) -> dict:
    """Everything a vote earns, as the parameters of ``VOTE_CREDITS_SQL``: the poll's
    points, and on a resident's first vote the invitation bonus for them and for who
    invited them (every one of them earned, so it counts for the level too)."""
    credits = []
    if points:
        credits.append((user.pk, points, Award(reason, f"vote:{poll_id}", f"poll:{poll_id}")))
    if user.invited_by_id:
        invite = Award(Reason.INVITE, key=f"invite:{user.pk}", source=f"user:{user.pk}")
        credits += [(user.invited_by_id, POINTS_INVITE, invite), (user.pk, POINTS_INVITE, invite)]
    return {
        "credit_users": [user_id for user_id, _, _ in credits],
        "credit_amounts": [amount for _, amount, _ in credits],
        "credit_reasons": [award.reason for _, _, award in credits],
        "credit_keys": [award.key for _, _, award in credits],
        "credit_sources": [award.source for _, _, award in credits],
    }


# A vote's credits as two data-modifying CTEs of the vote's one statement (polls.services
# .ballot_cast), written only if the CTE named by ``{counted}`` returns a row (the vote went
# in). The rules of _ledger_write: once per key (nothing for a key credited before), nothing
# for a suspended account (frozen), the wallet changed with its entries — one upsert per
# resident, as a statement may change a row only once.
VOTE_CREDITS_SQL = (
    """
    credited AS (
        INSERT INTO rewards_ledgerentry
            (user_id, amount, reason, key, source, comment, created_at)
        SELECT u.id, c.amount, c.reason, c.key, c.source, '', now()
        FROM unnest(
            %(credit_users)s::bigint[], %(credit_amounts)s::integer[],
            %(credit_reasons)s::text[], %(credit_keys)s::text[], %(credit_sources)s::text[]
        ) AS c (user_id, amount, reason, key, source)
        JOIN accounts_user u ON u.id = c.user_id AND u.suspended_at IS NULL
        WHERE EXISTS (SELECT FROM {counted})
        ON CONFLICT ON CONSTRAINT ledger_award_once DO NOTHING
        RETURNING user_id, amount
    ),
    credited_wallets AS (
        INSERT INTO rewards_wallet (user_id, balance, lifetime)
        SELECT user_id, sum(amount), sum(amount) FROM credited GROUP BY user_id
    """  # noqa: S608 (constants only)
    + WALLET_CREDIT_ON_CONFLICT
    + """
    )
"""
)


# --- levels ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    balance: int
    lifetime: int
    level: Level | None
    next_level: Level | None

    @property
    def to_next_level(self) -> int | None:
        return None if self.next_level is None else self.next_level.min_lifetime - self.lifetime

    @property
    def progress_percent(self) -> int:
        if self.next_level is None:
            return 100
        start = self.level.min_lifetime if self.level else 0
        span = self.next_level.min_lifetime - start
        return int(100 * (self.lifetime - start) / span) if span else 100


def standing(*, balance: int, lifetime: int, levels: list[Level]) -> Standing:
    reached = [level for level in levels if level.min_lifetime <= lifetime]
    ahead = [level for level in levels if level.min_lifetime > lifetime]
    return Standing(
        balance=balance,
        lifetime=lifetime,
        level=reached[-1] if reached else None,
        next_level=ahead[0] if ahead else None,
    )


# --- the shop -------------------------------------------------------------------------------


def reward_redeem(*, user: User, reward_id: int, now: datetime | None = None) -> Redemption:
    """Spend points on a reward: check the rules, take one from stock, debit the wallet,
    write the ledger entry and issue the voucher, all in one transaction.

    The resident's wallet row is locked first (one resident at a time, never a shared
    row), so their own simultaneous redemptions cannot overspend or pass a limit together;
    stock is taken by a conditional UPDATE, so it never goes below zero.
    """
    now = now or timezone.now()
    with transaction.atomic():
        _refuse_if_suspended(user_id=user.pk)
        wallet = _wallet_locked(user_id=user.pk)
        reward = Reward.objects.select_related("required_level").get(pk=reward_id)
        _check_redeemable(user=user, reward=reward, wallet=wallet, now=now)
        if reward.stock is not None:
            taken = Reward.objects.filter(pk=reward.pk, stock__gt=0).update(stock=F("stock") - 1)
            if not taken:
                raise OutOfStock(_("This reward is out of stock."))
        redemption = Redemption.objects.create(user=user, reward=reward, cost=reward.cost)
        _ledger_write(
            user_id=user.pk,
            amount=-reward.cost,
            award=Award(Reason.REDEMPTION, f"redemption:{redemption.pk}", f"reward:{reward.pk}"),
        )
        if not reward.is_donation:
            notifications_create(
                user_ids=[user.pk],
                kind=NotificationKind.VOUCHER,
                key=f"redemption:{redemption.pk}",
                params={"title": reward.title, "voucher": redemption.voucher},
                url=reverse("my_redemptions"),
            )
    return redemption


def _refuse_if_suspended(*, user_id: int) -> None:
    """Refuse a suspended account, reading its row as it is now under a KEY SHARE lock: a
    suspension (FOR UPDATE) in progress is waited for, and one that comes later waits for
    this redemption to commit."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT suspended_at IS NOT NULL FROM accounts_user WHERE id = %s FOR KEY SHARE",
            [user_id],
        )
        if cursor.fetchone()[0]:
            raise AccountFrozen()


def _wallet_ensure(cursor, *, user_id: int) -> None:
    """Create the resident's empty wallet if they have none; race-free, unlike get_or_create."""
    cursor.execute(
        "INSERT INTO rewards_wallet (user_id, balance, lifetime) VALUES (%s, 0, 0) "
        "ON CONFLICT (user_id) DO NOTHING",
        [user_id],
    )


def _wallet_locked(*, user_id: int) -> Wallet:
    with connection.cursor() as cursor:
        _wallet_ensure(cursor, user_id=user_id)
    return Wallet.objects.select_for_update().get(user_id=user_id)


def _check_redeemable(*, user: User, reward: Reward, wallet: Wallet, now: datetime) -> None:
    if (reward.available_from and now < reward.available_from) or (
        reward.available_until and now >= reward.available_until
    ):
        raise NotAvailable(_("This reward is not available now."))
    levels = [reward.required_level, Level.objects.filter(opens_shop=True).first()]
    needed = max(
        (level for level in levels if level), key=lambda level: level.min_lifetime, default=None
    )
    if needed and wallet.lifetime < needed.min_lifetime:
        raise LevelTooLow(
            _("This reward needs the “%(level)s” status (%(points)d lifetime points).")
            % {"level": needed.name, "points": needed.min_lifetime}
        )
    if wallet.balance < reward.cost:
        raise InsufficientPoints(
            _("You have %(balance)d points; this reward costs %(cost)d.")
            % {"balance": wallet.balance, "cost": reward.cost}
        )
    active = Redemption.objects.filter(user=user).exclude(status=RedemptionStatus.CANCELLED)
    if reward.per_resident_limit and (
        active.filter(reward=reward).count() >= reward.per_resident_limit
    ):
        raise LimitReached(
            _("You have already redeemed this reward %(n)d times, the most allowed.")
            % {"n": reward.per_resident_limit}
        )
    _check_category_limit(active=active, reward=reward, now=now)


def _check_category_limit(*, active, reward: Reward, now: datetime) -> None:
    limit = CategoryLimit.objects.filter(category=reward.category).first()
    if limit is None:
        return
    month_start = timezone.localtime(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    spent = (
        active.filter(reward__category=reward.category, created_at__gte=month_start).aggregate(
            total=Sum("cost")
        )["total"]
        or 0
    )
    if spent + reward.cost > limit.points_per_month:
        raise LimitReached(
            _("At most %(limit)d points a month go to this category; %(left)d are left.")
            % {"limit": limit.points_per_month, "left": max(limit.points_per_month - spent, 0)}
        )


def redemption_fulfil(*, redemption_id: int) -> bool:
    return bool(
        Redemption.objects.filter(pk=redemption_id, status=RedemptionStatus.ISSUED).update(
            status=RedemptionStatus.FULFILLED, closed_at=timezone.now()
        )
    )


def redemption_cancel(*, redemption_id: int, reason: str) -> None:
    """Cancel an issued redemption: refund its points (a new ledger entry) and return it to
    stock. Only once: the status changes by a conditional UPDATE."""
    with transaction.atomic():
        # The wallet first, as reward_redeem does: the same lock order everywhere, no deadlock.
        owner = (
            Redemption.objects.filter(pk=redemption_id).values_list("user_id", flat=True).first()
        )
        if owner is not None:
            _wallet_locked(user_id=owner)
        cancelled = Redemption.objects.filter(
            pk=redemption_id, status=RedemptionStatus.ISSUED
        ).update(status=RedemptionStatus.CANCELLED, closed_at=timezone.now(), cancel_reason=reason)
        if not cancelled:
            raise NotCancellable(_("Only an issued, unfulfilled redemption can be cancelled."))
        redemption = Redemption.objects.select_related("reward").get(pk=redemption_id)
        Reward.objects.filter(pk=redemption.reward_id, stock__isnull=False).update(
            stock=F("stock") + 1
        )
        _ledger_write(
            user_id=redemption.user_id,
            amount=redemption.cost,
            award=Award(
                Reason.REFUND, f"refund:{redemption.pk}", f"redemption:{redemption.pk}", reason
            ),
        )


# --- achievements ---------------------------------------------------------------------------

# Residents for whom every city poll open to them (by scope and age, and that they could
# still join) at some time in the month has a participation cast before the month ended,
# and at least one such poll existed. One statement, in the database, whatever the number
# of residents; re-running it later gives the same answer.
MONTHLY_ACTIVITY_SQL = """
    WITH month_polls AS (
        SELECT id, scope, min_age, closes_at FROM polls_poll
        WHERE status = 'published' AND scope <> 'building'
          AND opens_at < %(month_end)s AND closes_at > %(month_start)s
    ),
    eligible AS (
        SELECT u.id AS user_id, p.id AS poll_id
        FROM accounts_user u
        LEFT JOIN civic_building b ON b.id = u.home_building_id
        LEFT JOIN civic_district d ON d.id = b.district_id
        JOIN month_polls p ON (
            p.scope = 'city'
            OR EXISTS (SELECT 1 FROM polls_poll_districts x
                       WHERE x.poll_id = p.id AND x.district_id = d.id)
            OR EXISTS (SELECT 1 FROM polls_poll_okrugs x
                       WHERE x.poll_id = p.id AND x.okrug_id = d.okrug_id)
        )
        WHERE u.is_active AND u.suspended_at IS NULL
          AND u.date_joined < p.closes_at
          AND (p.min_age IS NULL OR u.birth_year <= %(year)s - p.min_age)
    )
    SELECT e.user_id
    FROM eligible e
    LEFT JOIN polls_participation pa
        ON pa.user_id = e.user_id AND pa.poll_id = e.poll_id AND pa.voted_at < %(month_end)s
    GROUP BY e.user_id
    HAVING bool_and(pa.id IS NOT NULL)
"""


def achievements_award_monthly_activity(*, year: int, month: int) -> int:
    """Give the month's "mark of activity" to every resident who voted in every city poll
    open to them that month; once per resident and month (a unique constraint), so running
    it again, or twice at once, adds nothing. Suspended accounts get none. Returns how many
    residents qualify."""
    city = timezone.get_current_timezone()
    start = datetime(year, month, 1, tzinfo=city)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=city)
    with connection.cursor() as cursor:
        cursor.execute(MONTHLY_ACTIVITY_SQL, {"month_start": start, "month_end": end, "year": year})
        user_ids = [row[0] for row in cursor.fetchall()]
    Achievement.objects.bulk_create(
        [
            Achievement(
                user_id=user_id, kind=AchievementKind.MONTHLY_ACTIVITY, period=f"{year}-{month:02d}"
            )
            for user_id in user_ids
        ],
        ignore_conflicts=True,
        batch_size=5000,
    )
    return len(user_ids)
