"""A real Celery worker on the real broker, against the test database."""

import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from email import message_from_string
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts.models import Notification
from civic.celery import app
from polls.models import OptionTally, Poll, PollTally
from polls.services import CLOSE_GRACE
from polls.tasks import close_due_polls, tally_closed_polls
from tests.polls.factories import three_question_poll
from tests.polls.test_schedule import vote

VOTERS = 6


def database_url() -> str:
    """The test database, as DATABASE_URL for the worker (a socket folder as the host)."""
    db = connection.settings_dict
    host = quote(db["HOST"] or "127.0.0.1", safe="")
    return f"postgres://{db['USER']}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker(tmp_path):
    """A worker with two processes on a queue of its own, emailing into files."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_QUEUE": queue,
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(tmp_path / "mail"),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "civic",
            "worker",
            "-Q",
            queue,
            "-c",
            "2",
            "-l",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    default_queue = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    try:
        yield tmp_path / "mail"
    finally:
        app.conf.task_default_queue = default_queue
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def wait_for(condition, timeout=60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("timed out waiting for the worker")


def emails_in(folder: Path) -> list:
    if not folder.exists():
        return []
    return [
        message_from_string(chunk.strip())
        for path in folder.iterdir()
        for chunk in path.read_text().split("-" * 79)
        if chunk.strip()
    ]


@pytest.mark.django_db(transaction=True)
def test_worker_closes_tallies_publishes_and_announces_once_even_when_sent_twice(worker):
    """Each scheduled task sent twice at once (two beats): the poll closes once, one final
    tally is stored, results are published once, and each voter gets one email."""
    poll = three_question_poll()
    for _ in range(VOTERS):
        vote(poll)
    Poll.objects.filter(pk=poll.pk).update(
        closes_at=timezone.now() - CLOSE_GRACE - timedelta(seconds=1)
    )

    for _ in range(2):
        close_due_polls.delay()
    wait_for(lambda: Poll.objects.get(pk=poll.pk).closed_at is not None)
    for _ in range(2):
        tally_closed_polls.delay()
    wait_for(lambda: Poll.objects.get(pk=poll.pk).results_published_at is not None)
    for _ in range(2):
        app.send_task("accounts.tasks.email_notifications")
    wait_for(lambda: not Notification.objects.filter(emailed_at__isnull=True).exists())
    wait_for(lambda: len(emails_in(worker)) >= VOTERS, timeout=10)
    time.sleep(1)  # anything sent twice would arrive now

    assert PollTally.objects.get(poll=poll).participants == VOTERS
    assert PollTally.objects.get(poll=poll).final
    assert (
        sum(OptionTally.objects.filter(poll=poll, dimension="").values_list("count", flat=True))
        == 3 * VOTERS
    )
    assert Notification.objects.filter(key=f"poll:{poll.pk}:results").count() == VOTERS
    recipients = [message["To"] for message in emails_in(worker)]
    assert len(recipients) == VOTERS == len(set(recipients))
