"""Load benchmark: votes through the whole stack — gunicorn, Django, DRF, PostgreSQL, Redis.

Run: .venv/bin/python bench/vote_load.py [--votes-per-level N] [--levels 8,32,64,128]
                                         [--workers 4] [--threads 2]

On a scratch database (civic_bench) it creates residents with API session tokens and, for
each concurrency level, an open three-question city poll. It starts two gunicorns with
production settings (DEBUG off; only plain HTTP on 127.0.0.1): the site, and the reference
— the same Django serving a minimal view that inserts one row per request
(bench/reference_wsgi.py). At each level the reference and then the votes are driven from
separate processes, an asyncio HTTP client (aiohttp) in which each of C clients posts one
request per resident until the level's residents are used up. Per level it prints
requests/s, p50/p95/p99 latency, errors, the votes' ratio to the reference's requests/s,
and the CPU milliseconds per request of gunicorn, the database backends and the load
generator (from /proc: what a busy machine hardly moves). Then it checks the database:
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
from pathlib import Path

from scratch import ROOT, scratch_database

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


@dataclass(frozen=True)
class Gunicorn:
    workers: int
    threads: int


def start_gunicorn(app: str, port: int, database_url: str, config: Gunicorn) -> subprocess.Popen:
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
            str(config.workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(config.threads),
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


# --- CPU time: what a request costs, whatever else the machine is doing ---------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process on this machine (0 if it has ended)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_processes(gunicorn: subprocess.Popen) -> dict[str, list[int]]:
    """gunicorn's master and workers, and the PostgreSQL backends of the scratch database."""
    from django.db import connection

    workers = [
        int(entry.name)
        for entry in Path("/proc").iterdir()
        if entry.name.isdigit() and _parent(int(entry.name)) == gunicorn.pid
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        backends = [pid for (pid,) in cursor.fetchall()]
    connection.close()
    return {"web": [gunicorn.pid, *workers], "db": backends}


def _parent(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None


class CpuMeter:
    """CPU seconds the server side spent between ``start`` and ``stop``: gunicorn's
    processes, and the database's backends (a backend that appears meanwhile counts whole)."""

    def __init__(self, gunicorn: subprocess.Popen):
        self.gunicorn = gunicorn

    def start(self) -> None:
        self.before = {
            kind: {pid: cpu_seconds(pid) for pid in pids}
            for kind, pids in server_processes(self.gunicorn).items()
        }

    def stop(self) -> dict[str, float]:
        return {
            kind: sum(cpu_seconds(pid) - self.before[kind].get(pid, 0.0) for pid in pids)
            for kind, pids in server_processes(self.gunicorn).items()
        }


# --- the load -------------------------------------------------------------------------------


@dataclass
class LevelResult:
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)  # seconds: web, db, client

    def cpu_ms(self, kind: str) -> float:
        """CPU milliseconds per answered request."""
        return self.cpu[kind] / max(1, self.ok + sum(self.errors.values())) * 1000

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

        began = time.time()  # the wall clock, which the load processes share
        await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, errors, began, time.time()


def _load_process(args) -> tuple[list[float], dict, float, float, float]:
    import aiohttp  # noqa: F401 (imported before the clock starts)

    started = time.process_time()
    latencies, errors, began, ended = asyncio.run(_drive(*args))
    return latencies, errors, began, ended, time.process_time() - started


def run_level(
    url: str, body: str, tokens: list[str], clients: int, seconds: float, meter: CpuMeter
) -> LevelResult:
    """Split the clients and the residents over LOAD_PROCESSES processes."""
    shares = [tokens[i::LOAD_PROCESSES] for i in range(LOAD_PROCESSES)]
    per_process = [
        clients // LOAD_PROCESSES + (i < clients % LOAD_PROCESSES) for i in range(LOAD_PROCESSES)
    ]
    jobs = [
        (url, body, share, n, seconds) for share, n in zip(shares, per_process, strict=True) if n
    ]
    result = LevelResult(cpu={"client": 0.0})
    with multiprocessing.get_context("spawn").Pool(len(jobs)) as pool:
        meter.start()
        outcomes = pool.map(_load_process, jobs)
        result.cpu |= meter.stop()
    for latencies, errors, _, _, cpu in outcomes:
        result.latencies += latencies
        result.cpu["client"] += cpu
        for status, n in errors.items():
            result.errors[status] = result.errors.get(status, 0) + n
    # From the first request sent to the last answer received (processes start unevenly).
    result.seconds = max(outcome[3] for outcome in outcomes) - min(o[2] for o in outcomes)
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
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=2, help="threads per worker")
    args = parser.parse_args()
    levels = [int(level) for level in args.levels.split(",")]
    config = Gunicorn(workers=args.workers, threads=args.threads)
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

        rows, problems, servers = [], [], []
        try:
            # Both servers run throughout and take turns at each level, so a change in what
            # else the machine is doing touches the vote and its reference alike.
            reference = start_gunicorn(
                "bench.reference_wsgi:application", REFERENCE_PORT, database_url, config
            )
            servers.append(reference)
            web = start_gunicorn("civic.wsgi:application", VOTE_PORT, database_url, config)
            servers.append(web)
            reference_url = f"http://127.0.0.1:{REFERENCE_PORT}/insert/"
            warm_up_url = f"http://127.0.0.1:{VOTE_PORT}/api/polls/{warm_up_poll.pk}/vote/"
            reference_meter, web_meter = CpuMeter(reference), CpuMeter(web)
            # Warm up: every worker's imports, connection pool and the poll's structure.
            run_level(reference_url, "{}", warm_up_tokens, 8, args.seconds, reference_meter)
            run_level(
                warm_up_url, json.dumps(warm_up_body), warm_up_tokens, 8, args.seconds, web_meter
            )
            for index, (level, (poll, body)) in enumerate(zip(levels, polls, strict=True)):
                share = tokens[index * args.votes_per_level : (index + 1) * args.votes_per_level]
                result = run_level(reference_url, "{}", share, level, args.seconds, reference_meter)
                rows.append(("reference", level, result))
                url = f"http://127.0.0.1:{VOTE_PORT}/api/polls/{poll.pk}/vote/"
                result = run_level(url, json.dumps(body), share, level, args.seconds, web_meter)
                rows.append(("vote", level, result))
                problems += check_votes(poll, result.ok)
        finally:
            for server in servers:
                stop(server)

    print(f"gunicorn: {config.workers} workers x {config.threads} threads (gthread)")
    print_table(rows)
    if problems:
        raise SystemExit("CHECKS FAILED:\n" + "\n".join(problems))
    print(
        "checks: every accepted vote is one participation, one ballot, one points credit; "
        "no resident twice; no lost votes"
    )


def print_table(rows) -> None:
    """Throughput and latency as measured; and CPU milliseconds per request — gunicorn
    (Django), PostgreSQL, the load generator — which other work on the machine hardly moves."""
    reference = {level: r.ok / r.seconds for kind, level, r in rows if kind == "reference"}
    print(
        f"{'':10} {'clients':>7} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'errors':>6} {'ratio':>6} {'CPU ms/request: web':>20} {'db':>5} {'client':>6}"
    )
    for kind, level, result in rows:
        rate = result.ok / result.seconds
        ratio = f"{rate / reference[level]:.2f}" if kind == "vote" else ""
        errors = sum(result.errors.values())
        print(
            f"{kind:10} {level:>7} {rate:>7.0f} {result.percentile(50):>8.1f} "
            f"{result.percentile(95):>8.1f} {result.percentile(99):>8.1f} {errors:>6} "
            f"{ratio:>6} {result.cpu_ms('web'):>20.2f} {result.cpu_ms('db'):>5.2f} "
            f"{result.cpu_ms('client'):>6.2f}"
        )
        if result.errors:
            print(f"{'':10} errors by status: {result.errors}")


if __name__ == "__main__":
    main()
