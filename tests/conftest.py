"""Test configuration: speed-ups and isolation on top of the one settings module."""

import importlib
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.utils import translation

TEST_CACHE_REDIS_DB = 15


def redis_url_with_db(url: str, db: int) -> str:
    """The same Redis server, another database: tests may flush it without touching the broker."""
    if url.startswith("unix://"):
        return f"{url.split('?')[0]}?db={db}"
    return urlunsplit(urlsplit(url)._replace(path=f"/{db}"))


@pytest.fixture(autouse=True)
def _test_settings(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The test client speaks plain HTTP and there is no collectstatic manifest in tests.
    settings.SECURE_SSL_REDIRECT = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Rate limits and throttles start afresh in every test: each test has a key prefix of
    # its own (not a flush, which would also wipe the counters of another suite running on
    # the same Redis at the same time).
    settings.CACHES = {
        "default": {
            **settings.CACHES["default"],
            "LOCATION": redis_url_with_db(settings.REDIS_URL, TEST_CACHE_REDIS_DB),
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        }
    }


@pytest.fixture(autouse=True)
def _fresh_poll_structures():
    """Tests add questions to open polls after reading them, which the site never does
    (an opened poll's structure is locked): start every test without remembered ones."""
    from polls import selectors

    selectors._structures.clear()


@pytest.fixture(autouse=True)
def _media_in_a_temporary_folder(settings, tmp_path_factory):
    """Uploads and demo photos go to a folder of the test run, not to .data/media."""
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def _english_outside_requests():
    """Services called directly speak English in tests (messages are asserted in English);
    requests still pick their language as the site does (Russian by default)."""
    with translation.override("en"):
        yield


GROUP_MIGRATIONS = [
    ("accounts.migrations.0002_city_groups", "create_groups"),
    ("polls.migrations.0002_group_permissions", "grant"),
    ("rewards.migrations.0002_append_only_ledger_levels_permissions", "seed"),
    ("polls.migrations.0006_export_permission_for_staff", "grant"),
    ("accounts.migrations.0007_residency_permissions", "grant"),
    ("polls.migrations.0008_survey_moderation_permissions", "grant"),
    ("accounts.migrations.0013_suspension_permissions_and_purge_schedule", "grant"),
    ("polls.migrations.0015_ballot_audit_escrow_and_flags", "grant"),
    ("novelties.migrations.0002_group_permissions", "grant"),
    ("audit.migrations.0002_append_only_and_permissions", "grant"),
    ("polls.migrations.0014_decisions", "grant"),
    ("discussions.migrations.0002_one_level_replies_permissions_schedule", "grant"),
]


@pytest.fixture
def city_groups(db):
    """The staff groups and the levels, as the data migrations create them. Transactional
    tests flush every table, migration-made rows included, so tests that need them ask."""
    from django.apps import apps

    for module, function in GROUP_MIGRATIONS:
        getattr(importlib.import_module(module), function)(apps, None)


@pytest.fixture
def admin_user(admin_user):
    """pytest-django's superuser, with an authenticator app as every staff account must
    have (accounts/mfa.py)."""
    from tests.accounts.factories import totp_activate

    totp_activate(admin_user)
    return admin_user


@pytest.fixture(scope="session")
def live_server():
    """pytest-django's live server, serving plain HTTP to the browser.

    The security middleware reads the HTTPS redirect and HSTS settings once, when the
    server's handler is built, so they are switched off only while it starts.
    """
    from django.test.utils import override_settings
    from pytest_django.live_server_helper import LiveServer

    with override_settings(SECURE_SSL_REDIRECT=False, SECURE_HSTS_SECONDS=0):
        server = LiveServer("localhost")
    yield server
    server.stop()
