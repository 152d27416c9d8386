"""Benchmark: the ballot log of a poll with 200,000 ballots.

Run: .venv/bin/python bench/ballot_log.py [--ballots N]

Bulk-loads the ballots (as bench/tally.py does) into the scratch database, then times,
in the same run:
- the first checkpoint, which logs every ballot in one batch, next to the reference: the
  checkpoint's own SELECT of the unlogged ballots with their answers, fetched bare;
- a typical checkpoint of 1,000 new ballots on top, and an inclusion proof ("Check my
  vote"), which read O(log n) stored nodes;
- the independent verifier over the exported files.
"""

import argparse
import tempfile
import time
from pathlib import Path

from scratch import scratch_database
from tally import load

INCREMENT = 1_000


def timed(action):
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def bare_select(poll_id: int) -> int:
    from django.db import connection

    from polls.ballot_log import UNLOGGED_BALLOTS_SQL, _logged_questions

    with connection.cursor() as cursor:
        cursor.execute(
            UNLOGGED_BALLOTS_SQL, {"poll": poll_id, "questions": _logged_questions(poll_id)}
        )
        return len(cursor.fetchall())


def add_ballots(poll, count: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO polls_ballot (id, poll_id, receipt, okrug_id, district_id, age_band,
                                      gender, apartment)
            SELECT gen_random_uuid(), %s, 'X' || lpad(to_hex(i), 11, '0'), NULL, NULL,
                   'unknown', '', ''
            FROM generate_series(1, %s) i
            """,
            [poll.pk, count],
        )


def export(poll, directory: Path) -> None:
    from polls.open_data import open_data_stream

    for name in ("ballots.json", "tree_heads.json", "results.json"):
        with (directory / name).open("wb") as out:
            for chunk in open_data_stream(poll, name):
                out.write(chunk)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=200_000)
    args = parser.parse_args()

    with scratch_database():
        from civic_verify.verify import verify_directory
        from polls.ballot_log import ballot_check, ballot_log_checkpoint, public_key_hex
        from polls.models import Ballot
        from polls.services import poll_tally

        poll = load(args.ballots)
        bare_select(poll.pk)  # warm the cache
        select_time, fetched = timed(lambda: bare_select(poll.pk))
        first_time, head = timed(lambda: ballot_log_checkpoint(poll_id=poll.pk))
        add_ballots(poll, INCREMENT)
        step_time, step = timed(lambda: ballot_log_checkpoint(poll_id=poll.pk))
        digits_only = Ballot.objects.filter(poll=poll, receipt__regex=r"^[0-9]+$")
        receipt = digits_only.order_by("receipt")[1000].receipt  # as typed: no lowercase
        proof_time, found = timed(lambda: ballot_check(receipt=receipt))
        poll_tally(poll_id=poll.pk, final=True)
        poll.results_published_at = poll.closes_at  # the open data's gate, for the export
        with tempfile.TemporaryDirectory() as folder:
            export_time, _ = timed(lambda: export(poll, Path(folder)))
            verify_time, report = timed(lambda: verify_directory(Path(folder), public_key_hex()))

    if (
        fetched != args.ballots
        or head.size != args.ballots
        or step.size != args.ballots + INCREMENT
    ):
        raise SystemExit("the log does not hold every ballot")
    if not report.ok:
        raise SystemExit(f"the verifier failed: {report.problems}")
    print(f"ballots:                          {args.ballots:>10,}")
    print(f"bare SELECT of the batch:         {select_time * 1000:>10.0f} ms  (reference)")
    print(
        f"first checkpoint (all, 1 batch):  {first_time * 1000:>10.0f} ms  "
        f"({first_time / select_time:.1f}x the bare SELECT)"
    )
    print(f"checkpoint of {INCREMENT:,} more:        {step_time * 1000:>10.0f} ms")
    print(
        f"inclusion proof (Check my vote):  {proof_time * 1000:>10.1f} ms  "
        f"({len(found.proof)} hashes)"
    )
    print(f"open data export (3 files):       {export_time * 1000:>10.0f} ms")
    print(f"independent verifier:             {verify_time * 1000:>10.0f} ms  (OK)")


if __name__ == "__main__":
    main()
