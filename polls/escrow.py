"""The escrowed link from a participation to its ballot (docs/decisions/0009).

A vote seals its ballot's receipt to the audit public key (``BALLOT_AUDIT_PUBLIC_KEY``,
X25519; a libsodium sealed box: an ephemeral key per seal, so two seals of one receipt
differ and nothing without the private key can tell which ballot a participation belongs
to). The private half is kept offline by the election commission. With it,
``manage.py ballots_flag`` opens only the seals of suspended accounts' participations and
records which ballots they cast as ``BallotFlag``s, which name no account; a recount may
then leave those ballots out (``polls.recount``). Ballots themselves never change.
"""

from collections import defaultdict
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

from polls.models import Ballot, BallotFlag, BallotFlagRun, Participation

KEY_BYTES = 32


class EscrowError(Exception):
    """A key or a flagging run the rules refuse; ``str()`` says why."""


@cache
def _sealing_box(public_key_hex: str) -> SealedBox:
    return SealedBox(PublicKey(bytes.fromhex(public_key_hex)))


def receipt_seal(receipt: str) -> bytes:
    """The receipt, sealed to the audit public key (60 bytes; about 50 µs)."""
    return _sealing_box(settings.BALLOT_AUDIT_PUBLIC_KEY).encrypt(receipt.encode())


def audit_key_problem(public_key_hex: str) -> str | None:
    """Why ``public_key_hex`` is not a usable audit key, or None."""
    try:
        raw = bytes.fromhex(public_key_hex)
    except ValueError:
        return _("it is not hexadecimal")
    if len(raw) != KEY_BYTES:
        return _("it is %(count)d bytes, not 32") % {"count": len(raw)}
    return None


def audit_private_key(text: str) -> PrivateKey:
    """The commission's private key from its file: 32 bytes as 64 hex digits."""
    text = text.strip()
    problem = audit_key_problem(text)
    if problem:
        raise EscrowError(_("The private key is not usable: %(problem)s.") % {"problem": problem})
    return PrivateKey(bytes.fromhex(text))


@dataclass(frozen=True)
class FlagOutcome:
    """What a run found for one poll; ``run`` is None when nothing changed since the last."""

    poll_id: int
    suspended_participations: int
    flagged: int
    unlinked: int
    run: BallotFlagRun | None


def ballots_flag(
    *, private_key: PrivateKey, poll_ids: list[int] | None = None, note: str = ""
) -> list[FlagOutcome]:
    """Open the sealed receipts of suspended accounts' participations and record, per poll,
    a new run with the ballots they cast - for every poll that has such participations or
    had flags before (a reinstated account's ballots drop out of the new run). A poll whose
    flags would not change gets no new run. One transaction; ballots are only read.

    A receipt that cannot be opened (cast before sealing began, or sealed to another key)
    is counted as unlinked, never guessed.
    """
    if private_key.public_key.encode() != bytes.fromhex(settings.BALLOT_AUDIT_PUBLIC_KEY):
        raise EscrowError(
            _("This private key does not belong to the audit public key in the settings.")
        )
    opener = SealedBox(private_key)
    with transaction.atomic():
        suspended = Participation.objects.filter(user__suspended_at__isnull=False)
        previous = _latest_runs(poll_ids)
        if poll_ids is not None:
            suspended = suspended.filter(poll_id__in=poll_ids)
        receipts: dict[int, list[str]] = defaultdict(list)
        counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])  # participations, unlinked
        for poll_id, sealed in suspended.values_list("poll_id", "sealed_receipt").iterator():
            counts[poll_id][0] += 1
            receipt = _open(opener, sealed)
            if receipt is None:
                counts[poll_id][1] += 1
            else:
                receipts[poll_id].append(receipt)
        ballots = _ballots_by_poll(receipts)
        outcomes = []
        for poll_id in sorted(set(counts) | set(previous)):
            found = ballots.get(poll_id, set())
            participations, unlinked = counts[poll_id]
            unlinked += len(receipts[poll_id]) - len(found)
            run = None
            last = previous.get(poll_id)
            if last is None or last[1] != found or last[0].unlinked != unlinked:
                run = BallotFlagRun.objects.create(
                    poll_id=poll_id,
                    suspended_participations=participations,
                    unlinked=unlinked,
                    note=note[:300],
                )
                BallotFlag.objects.bulk_create(
                    [BallotFlag(run=run, ballot_id=ballot_id) for ballot_id in sorted(found)]
                )
            outcomes.append(FlagOutcome(poll_id, participations, len(found), unlinked, run))
    return outcomes


def _open(opener: SealedBox, sealed) -> str | None:
    if sealed is None:
        return None
    try:
        return opener.decrypt(bytes(sealed)).decode()
    except (CryptoError, UnicodeDecodeError):
        return None


def _ballots_by_poll(receipts: dict[int, list[str]]) -> dict[int, set]:
    """The ballots with these receipts, by poll (a receipt from another poll is not linked)."""
    wanted = [receipt for poll_receipts in receipts.values() for receipt in poll_receipts]
    found: dict[int, set] = defaultdict(set)
    rows = Ballot.objects.filter(receipt__in=wanted).values_list("poll_id", "receipt", "pk")
    for poll_id, receipt, ballot_id in rows:
        if receipt in receipts.get(poll_id, ()):
            found[poll_id].add(ballot_id)
    return found


def _latest_runs(poll_ids: list[int] | None) -> dict[int, tuple[BallotFlagRun, set]]:
    """Each poll's latest run and its flagged ballots (two queries)."""
    runs = BallotFlagRun.objects.order_by("poll_id", "-created_at", "-pk").distinct("poll_id")
    if poll_ids is not None:
        runs = runs.filter(poll_id__in=poll_ids)
    latest = {run.pk: run for run in runs}
    flagged: dict[int, set] = defaultdict(set)
    for run_id, ballot_id in BallotFlag.objects.filter(run_id__in=list(latest)).values_list(
        "run_id", "ballot_id"
    ):
        flagged[run_id].add(ballot_id)
    return {run.poll_id: (run, flagged[run.pk]) for run in latest.values()}


def latest_flag_run(*, poll_id: int) -> BallotFlagRun | None:
    """The poll's current flags: its latest run, if it was ever flagged."""
    return BallotFlagRun.objects.filter(poll_id=poll_id).order_by("-created_at", "-pk").first()
