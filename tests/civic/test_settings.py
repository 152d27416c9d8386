import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from civic.settings import env_bool

ROOT = Path(settings.BASE_DIR)


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run manage.py as a deployment would: without test-only variables such as
    DJANGO_ALLOW_ASYNC_UNSAFE (which the browser tests set)."""
    base = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_check_is_clean_with_debug_off_and_a_real_secret_key():
    """With DEBUG off, a real SECRET_KEY, a ballot log key and an audit key of its own,
    `manage.py check --deploy` reports nothing."""
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "DEBUG",
        env={
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "civic.example",
            "BALLOT_LOG_SIGNING_KEY": secrets.token_hex(32),
            "BALLOT_AUDIT_PUBLIC_KEY": secrets.token_hex(32),
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_deploy_check_flags_the_development_secret_key():
    """Without SECRET_KEY the insecure development key is used, and the deploy check says so."""
    env = {"DEBUG": "0", "ALLOWED_HOSTS": "civic.example", "SECRET_KEY": ""}
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr
    assert "polls.W001" in result.stdout + result.stderr  # the public demo signing key
    assert "polls.W002" in result.stdout + result.stderr  # the public demo audit key


def test_the_client_address_settings_are_read_from_the_environment():
    """Behind a proxy the operator sets how the client's address is found; unset, Django's
    REMOTE_ADDR is used (a header a client could forge is trusted only when asked)."""
    assert settings.ALLAUTH_TRUSTED_PROXY_COUNT == 0
    assert settings.ALLAUTH_TRUSTED_CLIENT_IP_HEADER is None
    code = (
        "from django.conf import settings; "
        "print(settings.ALLAUTH_TRUSTED_PROXY_COUNT, settings.ALLAUTH_TRUSTED_CLIENT_IP_HEADER)"
    )
    env = {"ALLAUTH_TRUSTED_PROXY_COUNT": "2", "ALLAUTH_TRUSTED_CLIENT_IP_HEADER": "X-Real-IP"}
    result = run_manage("shell", "--verbosity", "0", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["2", "X-Real-IP"]


def test_debug_is_off_unless_set():
    """The test process runs with the defaults: DEBUG off, HSTS and secure cookies on."""
    assert settings.DEBUG is False
    assert settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE
    assert settings.SECURE_HSTS_SECONDS >= 31536000
    assert os.environ.get("TIME_ZONE", "Europe/Moscow") == settings.TIME_ZONE


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("true", True), ("off", False), ("", False)]
)
def test_env_bool_reads_common_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("CIVIC_FLAG", raw)
    assert env_bool("CIVIC_FLAG") is expected


def test_env_bool_refuses_garbage(monkeypatch):
    """A typo in a boolean variable stops start-up with a message naming the variable."""
    monkeypatch.setenv("CIVIC_FLAG", "maybe")
    with pytest.raises(Exception, match="CIVIC_FLAG must be a boolean"):
        env_bool("CIVIC_FLAG")


def test_docker_compose_runs_the_whole_stack():
    """docker-compose.yml runs postgres, redis, web (gunicorn), worker and beat, health-checked."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "web", "worker", "beat"}
    assert "gunicorn civic.wsgi:application" in services["web"]["command"]
    assert "migrate" in services["web"]["command"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "civic", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "civic", "beat"]
    for name in ("postgres", "redis", "web", "worker"):
        assert "healthcheck" in services[name], name
    assert "postgres-data:/var/lib/postgresql" in services["postgres"]["volumes"]
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["REDIS_URL"].startswith("redis://")
        assert env["DEBUG"] == "0"
    assert services["web"]["depends_on"]["postgres"]["condition"] == "service_healthy"


@pytest.mark.django_db
def test_pages_are_served_with_the_security_headers_and_cookies(client):
    """Over HTTPS (as production serves it): HSTS, no framing, no type sniffing, a strict
    referrer policy, a Content Security Policy allowing scripts and styles only as files
    from the site itself (nothing inline), no plugins, no <base>, no framing and forms
    posting only to the site; the session and CSRF cookies are Secure, the session one
    HttpOnly and both SameSite."""
    from tests.accounts.factories import UserFactory

    response = client.get("/", secure=True)
    assert response.status_code == 200
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response["Content-Security-Policy"].split(";")
    )
    assert policy == {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data:",
        "object-src": "'none'",
        "base-uri": "'none'",
        "frame-ancestors": "'none'",
        "form-action": "'self'",
    }
    client.post(
        "/accounts/login/",
        {"login": UserFactory().email, "password": "correct horse battery"},
        secure=True,
    )
    session, csrf = client.cookies[settings.SESSION_COOKIE_NAME], client.cookies["csrftoken"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"
    assert csrf["secure"] and csrf["samesite"] == "Lax"
