"""The ballot log of a poll (docs/decisions/0007): writes (checkpoints) and reads (proofs,
open data) kept together because they share one data structure — an RFC 9162 Merkle tree
whose leaves are ballots in checkpoint order and whose complete subtrees are stored.

Voting never touches the log. Every few minutes ``ballot_log_checkpoint`` appends the
ballots cast since the last checkpoint as one batch, ordered by receipt (so the order in
the log tells no more than the batch), and signs a tree head with a consistency proof from
the previous one. The Merkle arithmetic is ``civic_verify``'s, which anyone can run.
"""

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from civic_verify.merkle import (
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    subtree_hash,
)
from civic_verify.records import ballot_record, canonical, tree_head_message
from polls.models import (
    Ballot,
    LogLeaf,
    LogNode,
    Poll,
    PollStatus,
    Question,
    QuestionKind,
    Scope,
    TreeHead,
)

logger = logging.getLogger(__name__)

PLACEHOLDER = bytes(32)

# A ballot as logged: receipt, okrug, age band and its answers as [question, option,
# value] (free text left out). The one definition the checkpoint, "Check my vote" and the
# open data all read, so they cannot disagree on what a leaf holds.
BALLOT_COLUMNS = """
    b.receipt, b.okrug_id, b.age_band,
    COALESCE(json_agg(json_build_array(a.question_id, a.option_id, a.value))
             FILTER (WHERE a.id IS NOT NULL), '[]')
"""
ANSWERS_JOIN = (
    "LEFT JOIN polls_answer a ON a.ballot_id = b.id AND a.question_id = ANY(%(questions)s)"
)
UNLOGGED_BALLOTS_SQL = f"""
    SELECT b.id, {BALLOT_COLUMNS}
    FROM polls_ballot b {ANSWERS_JOIN}
    WHERE b.poll_id = %(poll)s
      AND NOT EXISTS (SELECT 1 FROM polls_logleaf l WHERE l.ballot_id = b.id)
    GROUP BY b.id
    ORDER BY b.receipt
"""  # noqa: S608 (constants only)
LOGGED_BALLOTS_SQL = f"""
    SELECT l.index, {BALLOT_COLUMNS}
    FROM polls_logleaf l JOIN polls_ballot b ON b.id = l.ballot_id {ANSWERS_JOIN}
    WHERE l.poll_id = %(poll)s AND l.index >= %(start)s AND l.index < %(end)s
    GROUP BY l.index, b.id
    ORDER BY l.index
"""  # noqa: S608 (constants only)
OPEN_DATA_BATCH = 5000


@cache
def signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(settings.BALLOT_LOG_SIGNING_KEY))


def public_key_hex() -> str:
    return signing_key().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def _logged_questions(poll_id: int) -> list[int]:
    """The questions a leaf holds answers to: all but free text."""
    questions = Question.objects.filter(poll_id=poll_id).exclude(kind=QuestionKind.TEXT)
    return list(questions.values_list("pk", flat=True))


def latest_tree_head(*, poll_id: int) -> TreeHead | None:
    return TreeHead.objects.filter(poll_id=poll_id).order_by("-size").first()


# --- writes -----------------------------------------------------------------------------------


def ballot_log_checkpoint(*, poll_id: int, minimum: int = 1) -> TreeHead | None:
    """Append the ballots cast since the last checkpoint and sign the new tree head; None
    if there were fewer than ``minimum``. The poll row is locked FOR NO KEY UPDATE, which
    serialises checkpoints of one poll but does not block votes (they take KEY SHARE).

    The scheduled checkpoints wait for ``BALLOT_LOG_MIN_BATCH`` ballots: a batch of one
    would tell whoever knows when a resident voted which ballot is theirs. The final
    checkpoint, before the results, takes whatever is left."""
    with transaction.atomic():
        poll = Poll.objects.select_for_update(no_key=True).get(pk=poll_id)
        if poll.is_survey:  # private to their building: not logged
            return None
        previous = latest_tree_head(poll_id=poll_id)
        size = previous.size if previous else 0
        with connection.cursor() as cursor:
            parameters = {"poll": poll_id, "questions": _logged_questions(poll_id)}
            cursor.execute(UNLOGGED_BALLOTS_SQL, parameters)
            batch = cursor.fetchall()
        if not batch or len(batch) < minimum:
            return None
        leaves = [_leaf(poll_id, row) for row in batch]
        _copy_rows(
            "polls_logleaf (poll_id, index, ballot_id, hash)",
            (
                (poll_id, size + offset, row[0], leaf)
                for offset, (row, leaf) in enumerate(zip(batch, leaves, strict=True))
            ),
        )
        _nodes_append(poll_id=poll_id, old_size=size, leaves=leaves)
        return _tree_head_sign(poll_id=poll_id, size=size + len(leaves), previous=previous)


def _copy_rows(table: str, rows) -> None:
    """Insert many rows with COPY: a checkpoint after an outage may hold a million."""
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _leaf(poll_id: int, row) -> bytes:
    return leaf_hash(canonical(_record(poll_id, row[1:])))


def _record(poll_id: int, columns) -> dict:
    receipt, okrug, age_band, answers = columns
    return ballot_record(
        poll=poll_id, receipt=receipt, okrug=okrug, age_band=age_band, answers=answers
    )


def _nodes_append(*, poll_id: int, old_size: int, leaves: list[bytes]) -> None:
    """Store the subtrees the new leaves complete. Each level pairs the waiting left node
    of the old tree (if the level had an odd count) with the new ones."""
    new_size = old_size + len(leaves)
    waiting = _waiting_nodes(poll_id=poll_id, size=old_size)
    level_nodes = dict(enumerate(leaves, start=old_size))
    if (0, old_size - 1) in waiting:
        level_nodes[old_size - 1] = waiting[(0, old_size - 1)]
    created = []
    level = 0
    while new_size >> (level + 1):
        parents = {}
        for index in range(old_size >> (level + 1), new_size >> (level + 1)):
            parents[index] = node_hash(level_nodes[2 * index], level_nodes[2 * index + 1])
            created.append((poll_id, level + 1, index, parents[index]))
        level += 1
        if (old_size >> level) & 1:
            parents[(old_size >> level) - 1] = waiting[(level, (old_size >> level) - 1)]
        level_nodes = parents
    _copy_rows("polls_lognode (poll_id, level, index, hash)", created)


def _waiting_nodes(*, poll_id: int, size: int) -> dict[tuple[int, int], bytes]:
    """The complete subtrees of a tree of ``size`` leaves that still wait for a right
    sibling: one per level where the count of complete subtrees is odd."""
    keys = {
        (level, (size >> level) - 1) for level in range(size.bit_length()) if (size >> level) & 1
    }
    return _nodes_read(poll_id=poll_id, keys=keys)


def _tree_head_sign(*, poll_id: int, size: int, previous: TreeHead | None) -> TreeHead:
    root = with_stored_nodes(poll_id, lambda node: subtree_hash(0, size, node)).hex()
    proof = []
    if previous is not None:
        proof = with_stored_nodes(
            poll_id, lambda node: consistency_proof(previous.size, size, node)
        )
    head = TreeHead(
        poll_id=poll_id,
        size=size,
        root=root,
        created_at=timezone.now().replace(microsecond=0),
        consistency_proof=[step.hex() for step in proof],
    )
    message = tree_head_message(poll=poll_id, size=size, root=root, time=head.time)
    head.signature = signing_key().sign(message).hex()
    head.save()
    return head


# --- reading nodes --------------------------------------------------------------------------


def with_stored_nodes(poll_id: int, compute: Callable):
    """Run ``compute(node)`` on the stored tree in two queries: a first pass records which
    nodes the computation asks for (its path depends on sizes, never on hashes), then they
    are read at once and the computation runs for real."""
    wanted = set()

    def record(level: int, index: int) -> bytes:
        wanted.add((level, index))
        return PLACEHOLDER

    compute(record)
    hashes = _nodes_read(poll_id=poll_id, keys=wanted)
    return compute(lambda level, index: hashes[(level, index)])


def _nodes_read(*, poll_id: int, keys: set[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    found = {}
    leaf_indexes = [index for level, index in keys if level == 0]
    if leaf_indexes:
        for index, value in LogLeaf.objects.filter(
            poll_id=poll_id, index__in=leaf_indexes
        ).values_list("index", "hash"):
            found[(0, index)] = bytes(value)
    upper = [Q(level=level, index=index) for level, index in keys if level > 0]
    if upper:
        condition = upper.pop()
        for other in upper:
            condition |= other
        for level, index, value in (
            LogNode.objects.filter(poll_id=poll_id)
            .filter(condition)
            .values_list("level", "index", "hash")
        ):
            found[(level, index)] = bytes(value)
    return found


# --- reads ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BallotCheck:
    """What "Check my vote" shows: the ballot as logged, and its proof against the latest
    signed tree head (None while it waits for the next checkpoint)."""

    ballot: Ballot
    record: str  # the canonical JSON that was hashed into the leaf
    index: int | None
    head: TreeHead | None
    proof: list[str]


def ballot_check(*, receipt: str) -> BallotCheck | None:
    """The ballot with this receipt (city polls only) and, once it is logged, the record
    that was hashed and its inclusion proof; None if there is no such ballot."""
    ballot = (
        Ballot.objects.filter(receipt=receipt)
        .exclude(poll__scope=Scope.BUILDING)
        .select_related("poll", "log_leaf")
        .prefetch_related("answers__question", "answers__option")
        .first()
    )
    if ballot is None:
        return None
    leaf = getattr(ballot, "log_leaf", None)
    head = latest_tree_head(poll_id=ballot.poll_id)
    if leaf is None or head is None or head.size <= leaf.index:
        return BallotCheck(ballot=ballot, record="", index=None, head=None, proof=[])
    logged = next(logged_ballots(poll_id=ballot.poll_id, start=leaf.index, end=leaf.index + 1))
    record = canonical(published_record(ballot.poll_id, logged))
    if leaf_hash(record) != bytes(leaf.hash):
        logger.error("ballot log leaf differs from its ballot", extra={"ballot": str(ballot.pk)})
    proof = with_stored_nodes(
        ballot.poll_id, lambda node: inclusion_proof(leaf.index, head.size, node)
    )
    return BallotCheck(
        ballot=ballot,
        record=record.decode(),
        index=leaf.index,
        head=head,
        proof=[p.hex() for p in proof],
    )


def published_record(poll_id: int, logged: dict) -> dict:
    """A ballot as ``logged_ballots`` gives it, back in the hashed record's shape."""
    return {"poll": poll_id, **{key: value for key, value in logged.items() if key != "index"}}


def logged_ballots(*, poll_id: int, start: int = 0, end: int | None = None) -> Iterator[dict]:
    """The logged ballots (all, or indexes ``[start, end)``) in log order, as published
    (``civic_verify`` reads the same shape); read in batches, so a poll of millions streams
    in constant memory."""
    questions = _logged_questions(poll_id)
    if end is None:
        end = log_size(poll_id=poll_id)
    for batch_start in range(start, end, OPEN_DATA_BATCH):
        with connection.cursor() as cursor:
            cursor.execute(
                LOGGED_BALLOTS_SQL,
                {
                    "poll": poll_id,
                    "questions": questions,
                    "start": batch_start,
                    "end": min(batch_start + OPEN_DATA_BATCH, end),
                },
            )
            for index, *columns in cursor.fetchall():
                record = _record(poll_id, columns)
                yield {"index": index, **{k: v for k, v in record.items() if k != "poll"}}


def log_size(*, poll_id: int) -> int:
    """How many ballots the log holds: the size of its latest tree head (every checkpoint
    signs one)."""
    head = latest_tree_head(poll_id=poll_id)
    return head.size if head else 0


def tree_heads(*, poll_id: int) -> list[TreeHead]:
    """Size, root and time of every checkpoint (not the proofs): the page's curve and table."""
    heads = TreeHead.objects.filter(poll_id=poll_id).order_by("size")
    return list(heads.only("poll_id", "size", "root", "created_at"))


def polls_being_voted() -> list[int]:
    """City polls whose log may still grow: published and without final results (after
    those, the final checkpoint has logged every ballot)."""
    return list(
        Poll.objects.exclude(scope=Scope.BUILDING)
        .filter(status=PollStatus.PUBLISHED, results_published_at__isnull=True)
        .filter(opens_at__lte=timezone.now())
        .values_list("pk", flat=True)
    )


@dataclass(frozen=True)
class Curve:
    """The participation curve as an SVG polyline: ballots logged at each checkpoint."""

    points: str
    width: int
    height: int
    largest: int


def participation_curve(
    heads: list[TreeHead], *, width: int = 600, height: int = 160
) -> Curve | None:
    if not heads:
        return None
    start = heads[0].created_at.timestamp()
    span = max(heads[-1].created_at.timestamp() - start, 1)
    largest = max(head.size for head in heads)
    points = " ".join(
        f"{(head.created_at.timestamp() - start) / span * width:.1f},"
        f"{height - head.size / largest * height:.1f}"
        for head in heads
    )
    return Curve(points=points, width=width, height=height, largest=largest)
