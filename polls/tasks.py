"""Celery tasks for the poll schedule: thin wrappers that call one service each.

Beat runs them every minute (the schedule is in the database, see
polls/migrations/0004_schedule.py, editable in the admin under "Periodic tasks"). Each is
safe to run twice or twice at once: state changes are conditional updates.
"""

import logging

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError

from polls import ballot_log, services

logger = logging.getLogger(__name__)

DATABASE_RETRY = {
    "autoretry_for": (DatabaseError,),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 8,
    "acks_late": True,
}


@shared_task(**DATABASE_RETRY)
def open_due_polls() -> list[int]:
    opened = services.polls_open_due()
    if opened:
        logger.info("polls opened", extra={"polls": opened})
    return opened


@shared_task(**DATABASE_RETRY)
def close_due_polls() -> list[int]:
    closed = services.polls_close_due()
    if closed:
        logger.info("polls closed", extra={"polls": closed})
    return closed


@shared_task(**DATABASE_RETRY)
def tally_closed_polls() -> list[int]:
    """Final tally of every closed, untallied poll, then publish its results."""
    polls = services.polls_due_for_final_tally()
    for poll_id in polls:
        tally_and_publish.delay(poll_id)
    return polls


@shared_task(**DATABASE_RETRY)
def tally_and_publish(poll_id: int) -> bool:
    services.poll_tally(poll_id=poll_id, final=True)
    published = services.poll_results_publish(poll_id=poll_id)
    if published:
        logger.info("poll results published", extra={"poll": poll_id})
    return published


@shared_task(**DATABASE_RETRY)
def refresh_live_results() -> list[int]:
    """Recount open polls that show live results (instead of a counter on every vote)."""
    polls = services.polls_live_open()
    for poll_id in polls:
        services.poll_tally(poll_id=poll_id, final=False)
    return polls


@shared_task(**DATABASE_RETRY)
def checkpoint_ballot_logs() -> list[int]:
    """Append the ballots cast since the last checkpoint to each poll's log, and sign."""
    checkpointed = []
    for poll_id in ballot_log.polls_being_voted():
        head = ballot_log.ballot_log_checkpoint(
            poll_id=poll_id, minimum=settings.BALLOT_LOG_MIN_BATCH
        )
        if head is not None:
            checkpointed.append(poll_id)
    return checkpointed


@shared_task(**DATABASE_RETRY)
def announce_decisions() -> list[int]:
    """Tell the participants of polls about decisions recorded or carried out since."""
    decisions = services.decisions_to_announce()
    for decision_id in decisions:
        announce_decision.delay(decision_id)
    return decisions


@shared_task(**DATABASE_RETRY)
def announce_decision(decision_id: int) -> str | None:
    kind = services.decision_announce(decision_id=decision_id)
    if kind:
        logger.info("decision announced", extra={"decision": decision_id, "kind": kind})
    return kind
