import json
import os
import subprocess
import sys

from django.conf import settings

HEALTHZ_WITH_DATABASE_DOWN = """
import django, json
django.setup()
from django.test import Client
response = Client().get("/healthz", HTTP_HOST="localhost")
print(json.dumps({"status": response.status_code, "body": response.json()}))
"""


def test_healthz_reports_database_and_broker_up(client, db):
    """/healthz answers 200 with the state of the database and the broker."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "up", "broker": "up"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_is_503_when_the_database_is_down():
    """With the database unreachable (nothing listens on its port), /healthz answers 503."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "civic.settings",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:1/civic",
        "DB_POOL": "0",
        "SECURE_SSL_REDIRECT": "0",
    }
    result = subprocess.run(
        [sys.executable, "-c", HEALTHZ_WITH_DATABASE_DOWN],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["status"] == 503
    assert outcome["body"]["database"] == "down"
    assert outcome["body"]["status"] == "error"
