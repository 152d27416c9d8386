"""The suspicious-accounts report: groups of accounts that look like one hand at work.

Three signals, each one SQL statement, so the report costs four queries whatever its size
(the fourth loads the accounts shown):

- sign-ups from one address, or one /24 (IPv4) or /64 (IPv6) subnet, each within
  ``SUSPICIOUS_SIGNUP_WINDOW_MINUTES`` of the one before (``accounts.SignupRecord``);
- new accounts with identical answers in open-ballot building surveys - the only ballots
  that name their voter; secret ballots are never linked to an account (docs/decisions/0004);
- new accounts that voted in the same polls within minutes of each other (participation
  says who voted in which poll and when, never how).

The thresholds are settings (``SUSPICIOUS_*``). A cluster is a hint for a person to look at,
not a verdict: a student hostel shares one address, and neighbours may answer alike.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User

MAX_CLUSTERS = 100  # of each kind, the most recent first

SIGNUP_CLUSTERS_SQL = """
    WITH recent AS (
        SELECT user_id, created_at, 'ip' AS kind, host(ip) AS key
        FROM accounts_signuprecord
        UNION ALL
        SELECT user_id, created_at, 'subnet', subnet FROM accounts_signuprecord
    ),
    marked AS (
        SELECT *, CASE WHEN created_at - lag(created_at) OVER same <= %(window)s
                       THEN 0 ELSE 1 END AS starts
        FROM recent
        WINDOW same AS (PARTITION BY kind, key ORDER BY created_at, user_id)
    ),
    islands AS (
        SELECT *, sum(starts) OVER (PARTITION BY kind, key ORDER BY created_at, user_id
                                    ROWS UNBOUNDED PRECEDING) AS island
        FROM marked
    )
    SELECT kind, key, min(created_at), max(created_at),
           array_agg(DISTINCT user_id ORDER BY user_id)
    FROM islands
    GROUP BY kind, key, island
    HAVING count(*) >= CASE kind WHEN 'ip' THEN %(per_ip)s ELSE %(per_subnet)s END
    ORDER BY max(created_at) DESC, kind
    LIMIT %(limit)s
"""

# Answers of open-ballot surveys (the ballot names its voter) by new accounts, one
# fingerprint per account over all its answers; accounts with the same fingerprint group.
SAME_ANSWERS_SQL = """
    WITH answers AS (
        SELECT b.voter_id AS user_id, b.poll_id, a.question_id, a.option_id, a.value,
               md5(a.text) AS text
        FROM polls_ballot b
        JOIN polls_answer a ON a.ballot_id = b.id
        JOIN accounts_user u ON u.id = b.voter_id
        WHERE u.date_joined >= %(joined_since)s AND NOT u.is_staff
    ),
    patterns AS (
        SELECT user_id, count(*) AS answers, count(DISTINCT poll_id) AS surveys,
               md5(string_agg(concat_ws(':', question_id, option_id, value, text), ','
                              ORDER BY question_id, option_id, value, text)) AS pattern
        FROM answers
        GROUP BY user_id
    )
    SELECT max(surveys), max(answers), array_agg(user_id ORDER BY user_id)
    FROM patterns
    WHERE answers >= %(min_answers)s
    GROUP BY pattern
    HAVING count(*) >= %(cluster_size)s
    ORDER BY count(*) DESC
    LIMIT %(limit)s
"""

# Pairs of new accounts that voted in at least SHARED_POLLS of the same polls, each time
# within the window of each other; the pairs are joined into groups in Python. Votes are put
# in buckets as long as the window, so a pair is looked for only in the same or a
# neighbouring bucket of the same poll (a hash join, not every pair of a poll's voters).
VOTED_TOGETHER_SQL = """
    WITH fresh AS (
        SELECT p.user_id, p.poll_id, p.voted_at,
               floor(extract(epoch FROM p.voted_at) / %(window_seconds)s)::bigint AS bucket
        FROM polls_participation p
        JOIN accounts_user u ON u.id = p.user_id
        WHERE u.date_joined >= %(joined_since)s AND NOT u.is_staff
    )
    SELECT a.user_id, b.user_id, min(least(a.voted_at, b.voted_at)),
           max(greatest(a.voted_at, b.voted_at))
    FROM fresh a
    CROSS JOIN (VALUES (-1), (0), (1)) AS near (step)
    JOIN fresh b ON b.poll_id = a.poll_id AND b.bucket = a.bucket + near.step
                AND b.user_id > a.user_id
                AND b.voted_at BETWEEN a.voted_at - %(window)s AND a.voted_at + %(window)s
    GROUP BY a.user_id, b.user_id
    HAVING count(*) >= %(shared_polls)s
"""


class ClusterKind:
    IP = "ip"
    SUBNET = "subnet"
    SAME_ANSWERS = "answers"
    VOTED_TOGETHER = "votes"


@dataclass
class Cluster:
    """Accounts that look related, why (``kind``, ``label``), and over what time."""

    kind: str
    label: str
    first: datetime | None
    last: datetime | None
    user_ids: list[int]
    accounts: list[User] | None = None

    @property
    def unsuspended(self) -> int:
        return sum(1 for user in self.accounts or [] if user.suspended_at is None)


def suspicious_clusters(*, now: datetime | None = None) -> list[Cluster]:
    """Every cluster of the three kinds, each with its accounts loaded (four queries)."""
    now = now or timezone.now()
    joined_since = now - timedelta(days=settings.SUSPICIOUS_NEW_ACCOUNT_DAYS)
    clusters = [
        *_signup_clusters(),
        *_same_answer_clusters(joined_since=joined_since),
        *_voted_together_clusters(joined_since=joined_since),
    ]
    ids = {pk for cluster in clusters for pk in cluster.user_ids}
    users = User.objects.filter(pk__in=ids).only(
        "email", "date_joined", "suspended_at", "is_active"
    )
    by_id = {user.pk: user for user in users}
    for cluster in clusters:
        cluster.accounts = [by_id[pk] for pk in cluster.user_ids if pk in by_id]
    return clusters


def _signup_clusters() -> list[Cluster]:
    parameters = {
        "window": timedelta(minutes=settings.SUSPICIOUS_SIGNUP_WINDOW_MINUTES),
        "per_ip": settings.SUSPICIOUS_SIGNUPS_PER_IP,
        "per_subnet": settings.SUSPICIOUS_SIGNUPS_PER_SUBNET,
        "limit": 2 * MAX_CLUSTERS,
    }
    with connection.cursor() as cursor:
        cursor.execute(SIGNUP_CLUSTERS_SQL, parameters)
        rows = cursor.fetchall()
    by_ip = {tuple(user_ids) for kind, _key, _first, _last, user_ids in rows if kind == "ip"}
    clusters = []
    for kind, key, first, last, user_ids in rows:
        if kind == ClusterKind.SUBNET and tuple(user_ids) in by_ip:
            continue  # the same accounts from one address: shown once, by address
        if kind == ClusterKind.IP:
            label = _("Signed up from one address: %(address)s") % {"address": key}
        else:
            label = _("Signed up from one subnet: %(subnet)s") % {"subnet": key}
        clusters.append(Cluster(kind, label, first, last, list(user_ids)))
    return clusters[:MAX_CLUSTERS]


def _same_answer_clusters(*, joined_since: datetime) -> list[Cluster]:
    parameters = {
        "joined_since": joined_since,
        "min_answers": settings.SUSPICIOUS_MIN_ANSWERS,
        "cluster_size": settings.SUSPICIOUS_CLUSTER_SIZE,
        "limit": MAX_CLUSTERS,
    }
    with connection.cursor() as cursor:
        cursor.execute(SAME_ANSWERS_SQL, parameters)
        rows = cursor.fetchall()
    return [
        Cluster(
            ClusterKind.SAME_ANSWERS,
            ngettext(
                "Identical answers (%(answers)d) in %(count)d open-ballot survey",
                "Identical answers (%(answers)d) in %(count)d open-ballot surveys",
                surveys,
            )
            % {"answers": answers, "count": surveys},
            None,
            None,
            list(user_ids),
        )
        for surveys, answers, user_ids in rows
    ]


def _voted_together_clusters(*, joined_since: datetime) -> list[Cluster]:
    window = timedelta(minutes=settings.SUSPICIOUS_VOTE_WINDOW_MINUTES)
    parameters = {
        "joined_since": joined_since,
        "window": window,
        "window_seconds": window.total_seconds(),
        "shared_polls": settings.SUSPICIOUS_SHARED_POLLS,
    }
    with connection.cursor() as cursor:
        cursor.execute(VOTED_TOGETHER_SQL, parameters)
        pairs = cursor.fetchall()
    groups = _connected_groups(pairs)
    label = ngettext(
        "Voted in at least %(polls)d of the same polls within %(minutes)d minutes of each other",
        "Voted in at least %(polls)d of the same polls within %(minutes)d minutes of each other",
        settings.SUSPICIOUS_SHARED_POLLS,
    ) % {
        "polls": settings.SUSPICIOUS_SHARED_POLLS,
        "minutes": settings.SUSPICIOUS_VOTE_WINDOW_MINUTES,
    }
    clusters = [
        Cluster(ClusterKind.VOTED_TOGETHER, label, first, last, sorted(members))
        for members, first, last in groups
        if len(members) >= settings.SUSPICIOUS_CLUSTER_SIZE
    ]
    clusters.sort(key=lambda cluster: cluster.last, reverse=True)
    return clusters[:MAX_CLUSTERS]


def _connected_groups(pairs) -> list[tuple[set[int], datetime, datetime]]:
    """Accounts linked by pairs, directly or through others (union-find), with the time
    span of the votes that link them."""
    parent: dict[int, int] = {}

    def root(pk: int) -> int:
        parent.setdefault(pk, pk)
        while parent[pk] != pk:
            parent[pk] = parent[parent[pk]]
            pk = parent[pk]
        return pk

    for first_id, second_id, _first, _last in pairs:
        parent[root(first_id)] = root(second_id)
    groups: dict[int, tuple[set[int], datetime, datetime]] = {}
    for first_id, _second_id, first, last in pairs:
        members, start, end = groups.get(root(first_id), (set(), first, last))
        groups[root(first_id)] = (members, min(start, first), max(end, last))
    for pk in parent:
        if root(pk) in groups:
            groups[root(pk)][0].add(pk)
    return list(groups.values())
