"""Load benchmark: votes through the whole stack — gunicorn, Django, DRF, PostgreSQL, Redis.

Run: .venv/bin/python bench/vote_load.py [--votes-per-level N] [--levels 8,32,64,128]

On a scratch database (civic_bench) it creates residents with API session tokens and, for
each concurrency level, an open three-question city poll. It starts gunicorn with
production settings (DEBUG off; only plain HTTP on 127.0.0.1) and, in separate processes,
an asyncio HTTP client (aiohttp) in which each of C clients posts one vote per resident
through the API until the level's residents are used up. In the same run it drives the
reference — the same gunicorn serving a minimal Django view that inserts one row per
request (bench/reference_wsgi.py) — the same way. Per level it prints votes/s, p50/p95/p99
latency, errors and the ratio to the reference's requests/s; then it checks the database:
exactly one ballot per vote accepted, one participation per resident, no lost or duplicate
votes, points credited once per vote. Bounded: every level is capped in requests and in
time (--seconds), and everything it starts is stopped at the end.
"""

import argparse
import asyncio
import json
import multiprocessing
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field

from scratch import ROOT, scratch_database

GUNICORN_WORKERS = 4
GUNICORN_THREADS = 2
LOAD_PROCESSES = 2
VOTE_PORT, REFERENCE_PORT = 8731, 8732
# The benchmark and its servers must sign sessions with the same key.
SECRET_KEY = "load-benchmark-" + "x" * 40
WARM_UP_REQUESTS = 200


# --- the data -------------------------------------------------------------------------------


def create_residents(count: int) -> list[str]:
    """Residents with homes and API session tokens, made in bulk (no password hashing)."""
    from allauth.account.models import EmailAddress
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from accounts.models import User
    from civic.models import Building, District, Okrug

    okrug = Okrug.objects.create(name="Округ")
    district = District.objects.create(name="Район", okrug=okrug)
    buildings = Building.objects.bulk_create(
        Building(
            district=district,
            street="Бенчмарковая",
            house=str(n),
            postcode="101000",
            apartments=500,
        )
        for n in range(1, 101)
    )
    users = User.objects.bulk_create(
        (
            User(
                email=f"load{n}@example.org",
                password=UNUSABLE_PASSWORD_PREFIX,  # these accounts sign in by token
                home_building=buildings[n % 100],
                birth_year=1950 + n % 50,
                gender=("female", "male")[n % 2],
            )
            for n in range(count)
        ),
        batch_size=5000,
    )
    EmailAddress.objects.bulk_create(  # confirmed, as voting requires
        (EmailAddress(user=user, email=user.email, verified=True, primary=True) for user in users),
        batch_size=5000,
    )
    store, tokens, sessions = SessionStore(), [], []
    expires = timezone.now() + timezone.timedelta(days=1)
    backend = settings.AUTHENTICATION_BACKENDS[0]
    for n, user in enumerate(users):
        key = f"loadsession{n:020d}"
        data = {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: backend,
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
        sessions.append(
            Session(session_key=key, session_data=store.encode(data), expire_date=expires)
        )
        tokens.append(key)
    Session.objects.bulk_create(sessions, batch_size=5000)
    return tokens


def create_poll(label: str):
    """An open three-question city poll: single choice, multiple choice, a 1–5 scale."""
    from django.utils import timezone

    from polls.models import Option, Poll, Question

    now = timezone.now()
    poll = Poll.objects.create(
        title=f"Нагрузка {label}",
        status="published",
        opens_at=now - timezone.timedelta(minutes=1),
        closes_at=now + timezone.timedelta(hours=2),
    )
    single = Question.objects.create(poll=poll, kind="single", text="Один", position=1)
    multiple = Question.objects.create(poll=poll, kind="multiple", text="Несколько", position=2)
    scale = Question.objects.create(poll=poll, kind="scale", text="Шкала", position=3)
    options = [
        Option.objects.create(question=question, text=str(n), position=n)
        for question in (single, multiple)
        for n in range(4)
    ]
    body = {
        "answers": [
            {"question": single.pk, "options": [options[0].pk]},
            {"question": multiple.pk, "options": [options[4].pk, options[6].pk]},
            {"question": scale.pk, "value": 4},
        ]
    }
    return poll, body


# --- the servers ----------------------------------------------------------------------------


def start_gunicorn(app: str, port: int, database_url: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DEBUG": "0",
        "SECRET_KEY": SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(  # noqa: S603 (our own gunicorn, fixed arguments)
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            app,
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(GUNICORN_WORKERS),
            "--worker-class",
            "gthread",
            "--threads",
            str(GUNICORN_THREADS),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            time.sleep(0.2)
    stop(process)
    raise SystemExit(f"gunicorn did not start on port {port}")


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


# --- the load -------------------------------------------------------------------------------


@dataclass
class LevelResult:
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def ok(self) -> int:
        return len(self.latencies)

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


async def _drive(url: str, body: str, tokens: list[str], clients: int, seconds: float):
    """``clients`` concurrent clients post until the tokens are used up or time is up."""
    import aiohttp

    latencies, errors = [], {}
    queue = list(reversed(tokens))
    deadline = time.monotonic() + seconds
    connector = aiohttp.TCPConnector(limit=clients)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def client():
            while queue and time.monotonic() < deadline:
                token = queue.pop()
                headers = {"X-Session-Token": token, "Content-Type": "application/json"}
                started = time.perf_counter()
                try:
                    async with session.post(url, data=body, headers=headers) as response:
                        await response.read()
                        status = response.status
                except (aiohttp.ClientError, TimeoutError) as error:
                    status = type(error).__name__
                if status == 201:
                    latencies.append(time.perf_counter() - started)
                else:
                    errors[str(status)] = errors.get(str(status), 0) + 1

        await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, errors


def _load_process(args) -> tuple[list[float], dict]:
    return asyncio.run(_drive(*args))


def run_level(url: str, body: str, tokens: list[str], clients: int, seconds: float) -> LevelResult:
    """Split the clients and the residents over LOAD_PROCESSES processes."""
    shares = [tokens[i::LOAD_PROCESSES] for i in range(LOAD_PROCESSES)]
    per_process = [
        clients // LOAD_PROCESSES + (i < clients % LOAD_PROCESSES) for i in range(LOAD_PROCESSES)
    ]
    jobs = [
        (url, body, share, n, seconds) for share, n in zip(shares, per_process, strict=True) if n
    ]
    result = LevelResult()
    started = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(len(jobs)) as pool:
        for latencies, errors in pool.map(_load_process, jobs):
            result.latencies += latencies
            for status, n in errors.items():
                result.errors[status] = result.errors.get(status, 0) + n
    result.seconds = time.perf_counter() - started
    return result


# --- the checks -----------------------------------------------------------------------------


def check_votes(poll, accepted: int) -> list[str]:
    """Every accepted vote is exactly one participation, one ballot and one ledger entry."""
    from django.db.models import Count

    from polls.models import Answer, Ballot, Participation
    from rewards.models import LedgerEntry

    problems = []
    participations = Participation.objects.filter(poll=poll).count()
    ballots = Ballot.objects.filter(poll=poll).count()
    credited = LedgerEntry.objects.filter(key=f"vote:{poll.pk}").count()
    twice = (
        Participation.objects.filter(poll=poll)
        .values("user")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    if not participations == ballots == credited == accepted:
        problems.append(
            f"poll {poll.pk}: {accepted} votes accepted, {participations} participations, "
            f"{ballots} ballots, {credited} points credits"
        )
    if twice.exists():
        problems.append(f"poll {poll.pk}: a resident took part twice")
    if Answer.objects.filter(ballot__poll=poll).count() != 4 * ballots:
        problems.append(f"poll {poll.pk}: answers do not match ballots")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--votes-per-level", type=int, default=4000)
    parser.add_argument("--levels", default="8,32,64,128")
    parser.add_argument("--seconds", type=float, default=60, help="cap per level")
    args = parser.parse_args()
    levels = [int(level) for level in args.levels.split(",")]
    os.environ["SECRET_KEY"] = SECRET_KEY

    with scratch_database():
        from django.conf import settings
        from django.db import connection
        from reference_wsgi import TABLE_SQL

        database = settings.DATABASES["default"]
        database_url = f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
        with connection.cursor() as cursor:
            cursor.execute(TABLE_SQL)
        tokens = create_residents(args.votes_per_level * len(levels) + WARM_UP_REQUESTS)
        warm_up_tokens, tokens = tokens[:WARM_UP_REQUESTS], tokens[WARM_UP_REQUESTS:]
        warm_up_poll, warm_up_body = create_poll("warm-up")
        polls = [create_poll(str(level)) for level in levels]
        connection.close()

        rows, problems = [], []
        reference = start_gunicorn("bench.reference_wsgi:application", REFERENCE_PORT, database_url)
        try:
            reference_url = f"http://127.0.0.1:{REFERENCE_PORT}/insert/"
            run_level(reference_url, "{}", warm_up_tokens, 8, args.seconds)  # workers, pools
            for level in levels:
                result = run_level(
                    f"http://127.0.0.1:{REFERENCE_PORT}/insert/",
                    "{}",
                    tokens[: args.votes_per_level],
                    level,
                    args.seconds,
                )
                rows.append(("reference", level, result))
        finally:
            stop(reference)
        web = start_gunicorn("civic.wsgi:application", VOTE_PORT, database_url)
        try:
            warm_up_url = f"http://127.0.0.1:{VOTE_PORT}/api/polls/{warm_up_poll.pk}/vote/"
            run_level(warm_up_url, json.dumps(warm_up_body), warm_up_tokens, 8, args.seconds)
            for index, (level, (poll, body)) in enumerate(zip(levels, polls, strict=True)):
                share = tokens[index * args.votes_per_level : (index + 1) * args.votes_per_level]
                url = f"http://127.0.0.1:{VOTE_PORT}/api/polls/{poll.pk}/vote/"
                result = run_level(url, json.dumps(body), share, level, args.seconds)
                rows.append(("vote", level, result))
                problems += check_votes(poll, result.ok)
        finally:
            stop(web)

    print_table(rows)
    if problems:
        raise SystemExit("CHECKS FAILED:\n" + "\n".join(problems))
    print(
        "checks: every accepted vote is one participation, one ballot, one points credit; "
        "no resident twice; no lost votes"
    )


def print_table(rows) -> None:
    reference = {level: r.ok / r.seconds for kind, level, r in rows if kind == "reference"}
    print(
        f"{'':10} {'clients':>7} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'errors':>7} {'ratio':>6}"
    )
    for kind, level, result in rows:
        rate = result.ok / result.seconds
        ratio = f"{rate / reference[level]:.2f}" if kind == "vote" else ""
        errors = sum(result.errors.values())
        print(
            f"{kind:10} {level:>7} {rate:>8.0f} {result.percentile(50):>8.1f} "
            f"{result.percentile(95):>8.1f} {result.percentile(99):>8.1f} {errors:>7} {ratio:>6}"
        )
        if result.errors:
            print(f"{'':10} errors by status: {result.errors}")


if __name__ == "__main__":
    main()
