import contextlib
import json
import os
import subprocess
import sys

import redis
from django.conf import settings

JOIN_EMBEDDED_SERVERS = """
import json, os, psycopg, redis, time
from civic import embedded
database = embedded.postgres_settings("civic")
with psycopg.connect(
    host=database["HOST"], port=database["PORT"], user="postgres", dbname="civic"
) as conn:
    server_pid = conn.execute("SELECT pg_postmaster_start_time()::text").fetchone()[0]
client = redis.Redis.from_url(embedded.redis_url())
client.incr("joined")
deadline = time.monotonic() + 60
while int(client.get("joined")) < 3 and time.monotonic() < deadline:  # stay until all joined
    time.sleep(0.05)
print(json.dumps({"postgres": server_pid, "redis": embedded.redis_url()}))
"""


def test_processes_starting_at_once_share_one_postgres_and_one_redis(tmp_path):
    """Web, worker and beat starting together on a fresh data folder: all three come up,
    on the same PostgreSQL and Redis servers, and the data folder is initialised once."""
    env = {**os.environ, "CIVIC_DATA_DIR": str(tmp_path / "data")}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", JOIN_EMBEDDED_SERVERS],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    results = [process.communicate(timeout=120) for process in processes]
    for process, (_stdout, stderr) in zip(processes, results, strict=True):
        assert process.returncode == 0, stderr
    servers = [json.loads(stdout.strip().splitlines()[-1]) for stdout, _stderr in results]
    assert len({server["postgres"] for server in servers}) == 1
    assert len({server["redis"] for server in servers}) == 1
    assert (tmp_path / "data" / "postgres" / "PG_VERSION").exists()
    # The last one out may still count the others' connections: stop this test's Redis.
    with contextlib.suppress(redis.ConnectionError):
        redis.Redis.from_url(servers[0]["redis"]).shutdown(nosave=True)
