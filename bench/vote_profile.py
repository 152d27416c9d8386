"""What one vote costs: CPU milliseconds in the web process and in PostgreSQL, and SQL
statements, per request, next to the load benchmark's one-row-insert reference.

Run: .venv/bin/python bench/vote_profile.py [--votes N] [--rounds R] [--profile FILE]

Unlike bench/vote_load.py this needs a quiet machine for nothing: it sends the requests one
after another through Django's WSGI handler in this process (production settings, the
same residents, tokens and poll as the load benchmark, no HTTP server, no client) and
reads CPU time — the process's own, and the PostgreSQL backend's from /proc — rather than
the clock, so other work on the machine hardly moves the figures. Statements are counted
at the driver (every statement Django sends, transaction control included).
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from scratch import scratch_database
from vote_load import SECRET_KEY, create_poll, create_residents

WARM_UP = 200


def backend_cpu_seconds(pid: int) -> float:
    """User + system CPU of a PostgreSQL backend (same machine)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def request(handler, path: str, body: bytes, token: str) -> int:
    statuses = []
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_X_SESSION_TOKEN": token,
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }
    response = handler(environ, lambda status, headers: statuses.append(status))
    b"".join(response)
    response.close()  # request_finished: the connection goes back to the pool
    return int(statuses[0].split()[0])


class StatementCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


@dataclass
class Cost:
    web_ms: float
    db_ms: float
    statements: float
    per_second: float


def measure(handler, path: str, body: bytes, tokens: list[str], profiler=None) -> Cost:
    """Send one request per token, one after another; CPU and statements per request."""
    from django.db import connection

    counter = StatementCounter()
    backend = _backend_pid()
    db_before = backend_cpu_seconds(backend)
    started, wall = time.process_time(), time.perf_counter()
    if profiler:
        profiler.enable()
    with connection.execute_wrapper(counter):
        statuses = {request(handler, path, body, token) for token in tokens}
    if profiler:
        profiler.disable()
    if statuses != {201}:
        raise SystemExit(f"{path}: unexpected statuses {sorted(statuses)}")
    return Cost(
        web_ms=(time.process_time() - started) / len(tokens) * 1000,
        db_ms=(backend_cpu_seconds(backend) - db_before) / len(tokens) * 1000,
        statements=counter.count / len(tokens),
        per_second=len(tokens) / (time.perf_counter() - wall),
    )


def _backend_pid() -> int:
    """The PostgreSQL backend serving the pool's one connection (requests run one at a time)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    connection.close()
    return pid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--votes", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=6, help="alternations of the two")
    parser.add_argument(
        "--profile", help="write a cProfile of the votes (CPU time) there, print its top"
    )
    args = parser.parse_args()
    os.environ.update(
        SECRET_KEY=SECRET_KEY,
        DEBUG="0",
        SECURE_SSL_REDIRECT="0",
        ALLOWED_HOSTS="127.0.0.1",
        LOG_LEVEL="WARNING",
        DB_POOL_MAX_SIZE="1",  # one connection, so one backend does all the database work
    )
    with scratch_database():
        from django.conf import settings
        from django.core.handlers.wsgi import WSGIHandler
        from django.db import connection

        site_urls = settings.ROOT_URLCONF
        from reference_wsgi import TABLE_SQL  # (it points ROOT_URLCONF at itself)

        with connection.cursor() as cursor:
            cursor.execute(TABLE_SQL)
        tokens = create_residents(args.votes + WARM_UP)
        poll, body = create_poll("profile")
        connection.close()
        # CPU time, not the clock: waiting for the database is not the web process's cost.
        profiler = cProfile.Profile(time.process_time) if args.profile else None

        handler = WSGIHandler()
        vote = (f"/api/polls/{poll.pk}/vote/", json.dumps(body).encode())
        reference = ("/insert/", b"{}")
        urls = {vote: site_urls, reference: "reference_wsgi"}
        for kind in (reference, vote):
            settings.ROOT_URLCONF = urls[kind]
            for token in tokens[:WARM_UP]:
                request(handler, *kind, token)
        # The two alternate, so a change in the machine's load touches both alike.
        costs = {reference: [], vote: []}
        share = args.votes // args.rounds
        for round_ in range(args.rounds):
            residents = tokens[WARM_UP + round_ * share : WARM_UP + (round_ + 1) * share]
            for kind in (reference, vote):
                settings.ROOT_URLCONF = urls[kind]
                costs[kind].append(
                    measure(handler, *kind, residents, profiler if kind == vote else None)
                )
        connection.close()
    print(f"{args.rounds} rounds of {share} requests each; per request, the median (lowest):")
    print(f"{'':10} {'web CPU ms':>14} {'db CPU ms':>14} {'SQL':>5} {'req/s':>7}")
    for label, kind in (("reference", reference), ("vote", vote)):
        rows = costs[kind]
        web = [cost.web_ms for cost in rows]
        database = [cost.db_ms for cost in rows]
        print(
            f"{label:10} {statistics.median(web):>7.2f} ({min(web):.2f}) "
            f"{statistics.median(database):>7.2f} ({min(database):.2f}) "
            f"{rows[0].statements:>5.1f} {statistics.median(c.per_second for c in rows):>7.0f}"
        )
    if profiler:
        profiler.dump_stats(args.profile)
        pstats.Stats(args.profile).sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
