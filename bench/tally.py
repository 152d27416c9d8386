"""Benchmark: the final tally of a poll with 1,000,000 ballots over three questions.

Run: .venv/bin/python bench/tally.py [--ballots N]

Bulk-loads the ballots with SQL (not through HTTP) into a scratch database
(civic_bench) on the configured server, then prints the time of
``polls.services.poll_tally`` next to the bare GROUP BY SELECTs that produce the
same numbers (the tally's own statements, run and fetched without storing), in the
same run, with the ratio. The target is a tally within 2x of the bare queries.
"""

import argparse
import statistics
import time

from scratch import scratch_database

ROUNDS = 3


def load(ballots: int):
    """A poll: single choice (4 options), multiple choice (2 of 5), scale 1–5; 12 okrugs,
    120 districts; every ballot answers all three (4 answers a ballot)."""
    from django.db import connection
    from django.utils import timezone

    from civic.models import District, Okrug
    from polls.models import Option, Poll, Question

    okrugs = Okrug.objects.bulk_create(Okrug(name=f"Округ {n}") for n in range(12))
    districts = District.objects.bulk_create(
        District(name=f"Район {n}", okrug=okrugs[n % 12]) for n in range(120)
    )
    now = timezone.now()
    poll = Poll.objects.create(
        title="Бенчмарк",
        status="published",
        opens_at=now,
        closes_at=now + timezone.timedelta(days=1),
    )
    single = Question.objects.create(poll=poll, kind="single", text="Один", position=1)
    multiple = Question.objects.create(poll=poll, kind="multiple", text="Два", position=2)
    scale = Question.objects.create(poll=poll, kind="scale", text="Шкала", position=3)
    single_options = Option.objects.bulk_create(
        Option(question=single, text=f"{n}") for n in range(4)
    )
    multiple_options = Option.objects.bulk_create(
        Option(question=multiple, text=f"{n}") for n in range(5)
    )
    params = {
        "poll": poll.pk,
        "n": ballots,
        "okrug0": okrugs[0].pk,
        "district0": districts[0].pk,
        "single": single.pk,
        "multiple": multiple.pk,
        "scale": scale.pk,
        "s0": single_options[0].pk,
        "m0": multiple_options[0].pk,
    }
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO polls_ballot (id, poll_id, receipt, okrug_id, district_id, age_band, gender)
            SELECT md5(i::text)::uuid, %(poll)s, lpad(to_hex(i), 12, '0'),
                   %(okrug0)s + (i %% 120) %% 12, %(district0)s + i %% 120,
                   (ARRAY['18-24','25-34','35-44','45-54','55-64','65+'])[1 + i %% 6],
                   (ARRAY['female','male','undisclosed'])[1 + i %% 3]
            FROM generate_series(1, %(n)s) i
            """,
            params,
        )
        cursor.execute(
            """
            INSERT INTO polls_answer (id, ballot_id, question_id, option_id, value, text)
            SELECT gen_random_uuid(), md5(i::text)::uuid, q.question, q.option, q.value, ''
            FROM generate_series(1, %(n)s) i
            CROSS JOIN LATERAL (VALUES
                (%(single)s, %(s0)s + i %% 4, NULL::smallint),
                (%(multiple)s, %(m0)s + i %% 5, NULL),
                (%(multiple)s, %(m0)s + (i + 2) %% 5, NULL),
                (%(scale)s, NULL, (1 + i %% 5)::smallint)
            ) AS q(question, option, value)
            """,
            params,
        )
        cursor.execute("VACUUM ANALYZE polls_ballot")
        cursor.execute("VACUUM ANALYZE polls_answer")
    return poll


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def bare_queries(poll_id: int) -> None:
    from django.db import connection

    from polls import services

    parameters = services.tally_parameters(poll_id=poll_id)
    with connection.cursor() as cursor:
        for statement in (
            services.TALLY_OPTIONS_SQL,
            services.TALLY_QUESTIONS_SQL,
            services.TALLY_BREAKDOWN_SQL,
            services.TALLY_GROUPS_SQL,
            services.TALLY_PARTICIPANTS_SQL,
        ):
            cursor.execute(statement, parameters)
            cursor.fetchall()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=1_000_000)
    args = parser.parse_args()

    with scratch_database():
        from polls.models import PollTally
        from polls.services import poll_tally

        started = time.perf_counter()
        poll = load(args.ballots)
        load_time = time.perf_counter() - started
        bare_queries(poll.pk)  # warm the cache for both
        tally_times, bare_times = [], []
        for _ in range(ROUNDS):
            bare_times.append(timed(lambda: bare_queries(poll.pk)))
            tally_times.append(timed(lambda: poll_tally(poll_id=poll.pk, final=True)))
        participants = PollTally.objects.get(poll=poll).participants

    if participants != args.ballots:
        raise SystemExit(f"tally counted {participants} ballots, expected {args.ballots}")
    tally, bare = statistics.median(tally_times), statistics.median(bare_times)
    print(f"ballots:                     {args.ballots:>10,}  (answers: {4 * args.ballots:,})")
    print(f"bulk load:                   {load_time:>10.1f} s")
    print(f"bare GROUP BY SELECTs:       {bare * 1000:>10.0f} ms  (median of {ROUNDS}, reference)")
    ratio = tally / bare
    print(f"poll_tally (stored):         {tally * 1000:>10.0f} ms  ({ratio:.2f}x the bare queries)")


if __name__ == "__main__":
    main()
