"""Benchmark: ballots.csv of a poll with 1,000,000 ballots, through the Django view.

Run: .venv/bin/python bench/export.py [--ballots N]

Bulk-loads the ballots (as bench/tally.py does) into a scratch database, then prints the
time and the process's peak memory of the whole ballots.csv streamed by the staff export
view, next to a bare ``COPY (same query) TO STDOUT`` of the same rows read in 256 KB
pieces, in the same run. Targets: within 2x of COPY's time, under 200 MB peak memory.
"""

import argparse
import resource
import time

from scratch import scratch_database
from tally import load

CHUNK = 256 * 1024


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bare_copy(poll) -> tuple[float, int]:
    from django.db import connection
    from psycopg import sql

    from polls.exports import ballots_query

    query, _header = ballots_query(poll, include_text=True)
    started = time.perf_counter()
    size = 0
    piece = bytearray()
    with (
        connection.cursor() as cursor,
        cursor.copy(sql.SQL("COPY ({}) TO STDOUT (FORMAT csv)").format(query)) as stream,
    ):
        for row in stream:
            piece += row
            if len(piece) >= CHUNK:
                size += len(piece)
                piece.clear()
    size += len(piece)
    return time.perf_counter() - started, size


def through_the_view(poll) -> tuple[float, int, int]:
    from django.test import RequestFactory

    from accounts.models import User
    from polls.staff import export

    request = RequestFactory().get(f"/staff/polls/{poll.pk}/ballots.csv")
    request.user = User.objects.create_superuser(email="bench@example.org", password=None)
    started = time.perf_counter()
    response = export(request, poll_id=poll.pk, kind="ballots")
    first_byte = None
    size = 0
    for chunk in response.streaming_content:
        if first_byte is None:
            first_byte = time.perf_counter() - started
        size += len(chunk)
    return time.perf_counter() - started, size, first_byte


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=1_000_000)
    args = parser.parse_args()

    with scratch_database():
        poll = load(args.ballots)
        bare_copy(poll)  # warm the cache for both
        memory_before = peak_mb()
        copy_time, copy_size = bare_copy(poll)
        view_time, view_size, first_byte = through_the_view(poll)
        memory_peak = peak_mb()

    print(f"ballots:                      {args.ballots:>10,}")
    print(
        f"COPY … TO STDOUT:             {copy_time:>10.2f} s  ({copy_size / 1e6:.0f} MB, reference)"
    )
    print(
        f"ballots.csv via the view:     {view_time:>10.2f} s  ({view_size / 1e6:.0f} MB, "
        f"{view_time / copy_time:.2f}x COPY; first bytes after {first_byte * 1000:.0f} ms)"
    )
    before = f"before the exports: {memory_before:.0f} MB"
    print(f"process peak memory:          {memory_peak:>10.0f} MB  ({before})")


if __name__ == "__main__":
    main()
