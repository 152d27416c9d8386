"""Celery tasks of accounts: sending notification emails in batches, and forgetting old
sign-up addresses."""

import time

from celery import shared_task
from django.db import DatabaseError

from accounts.notifications import notifications_email_batch
from accounts.privacy import erased_emails_purge
from accounts.services import signup_records_purge

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


@shared_task(autoretry_for=(DatabaseError,), retry_backoff=True, max_retries=5, acks_late=True)
def purge_signup_records() -> int:
    """Delete sign-up addresses past ``SIGNUP_RECORD_RETENTION_DAYS`` (daily, by beat)."""
    return signup_records_purge()


@shared_task(autoretry_for=(DatabaseError,), retry_backoff=True, max_retries=5, acks_late=True)
def purge_erased_emails() -> int:
    """Forget deleted accounts' addresses once their polls have closed (daily, by beat)."""
    return erased_emails_purge()
