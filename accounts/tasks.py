"""Celery tasks of accounts: sending notification emails in batches."""

import time

from celery import shared_task
from django.db import DatabaseError

from accounts.notifications import notifications_email_batch

# A run stops taking new batches after this long; the next run (a minute later) goes on.
EMAIL_RUN_SECONDS = 50


@shared_task(
    autoretry_for=(DatabaseError, OSError),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=8,
    acks_late=True,
)
def email_notifications() -> int:
    """Send pending notification emails, batch after batch, for up to a minute."""
    started = time.monotonic()
    sent = 0
    while time.monotonic() - started < EMAIL_RUN_SECONDS:
        batch = notifications_email_batch()
        sent += batch
        if not batch:
            break
    return sent
