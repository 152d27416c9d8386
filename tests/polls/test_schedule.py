import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.utils import timezone

from accounts.models import Notification
from accounts.notifications import notifications_email_batch
from accounts.selectors import resident_with_home
from polls.models import OptionTally, Poll, PollTally, ResultsVisibility
from polls.selectors import poll_with_questions
from polls.services import (
    CLOSE_GRACE,
    ballot_cast,
    poll_results_publish,
    poll_tally,
    polls_close_due,
    polls_live_open,
    polls_open_due,
)
from polls.tasks import tally_and_publish
from polls.validation import AnswerInput
from tests.accounts.factories import UserFactory
from tests.polls.factories import three_question_poll

NOW = timezone.make_aware(timezone.datetime(2026, 12, 1, 12, 0))


def vote(poll, user=None):
    single, multiple, scale = poll.questions.all()
    answers = [
        AnswerInput(single.pk, (single.options.first().pk,)),
        AnswerInput(multiple.pk, (multiple.options.first().pk,)),
        AnswerInput(scale.pk, value=5),
    ]
    voter = resident_with_home(user_id=(user or UserFactory()).pk)
    ballot_cast(user=voter, poll=poll_with_questions(poll_id=poll.pk), answers=answers)


def run_at_once(function, times=2):
    """Call ``function`` from ``times`` threads released together; return their results."""
    barrier = threading.Barrier(times)
    results = []

    def call():
        try:
            barrier.wait(timeout=30)
            results.append(function())
        finally:
            connection.close()

    threads = [threading.Thread(target=call) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.django_db
def test_polls_open_at_opens_at_once():
    poll = three_question_poll(opens_at=NOW, closes_at=NOW + timedelta(days=1))
    with time_machine.travel(NOW - timedelta(seconds=1), tick=False):
        assert polls_open_due() == []
    with time_machine.travel(NOW, tick=False):
        assert polls_open_due() == [poll.pk]
        assert polls_open_due() == []
    poll.refresh_from_db()
    assert poll.opened_at == NOW


@pytest.mark.django_db
def test_polls_close_after_the_grace_period_once():
    """Closing waits out the vote statement timeout after closes_at, then stamps once."""
    poll = three_question_poll(opens_at=NOW - timedelta(days=1), closes_at=NOW)
    with time_machine.travel(NOW + CLOSE_GRACE - timedelta(seconds=1), tick=False):
        assert polls_close_due() == []
    with time_machine.travel(NOW + CLOSE_GRACE, tick=False):
        assert polls_close_due() == [poll.pk]
        assert polls_close_due() == []
    poll.refresh_from_db()
    assert poll.closed_at == NOW + CLOSE_GRACE


@pytest.mark.django_db
def test_drafts_are_never_opened_or_closed():
    three_question_poll(status="draft", opens_at=NOW - timedelta(days=2), closes_at=NOW)
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        assert polls_open_due() == [] and polls_close_due() == []


@pytest.mark.django_db(transaction=True)
def test_two_beats_at_once_close_each_poll_once():
    polls = [three_question_poll(opens_at=NOW - timedelta(days=1), closes_at=NOW) for _ in range(5)]
    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        results = run_at_once(polls_close_due)
    closed = [poll_id for result in results for poll_id in result]
    assert sorted(closed) == sorted(poll.pk for poll in polls)


@pytest.mark.django_db(transaction=True)
def test_two_tallies_at_once_store_one_tally():
    poll = three_question_poll()
    for _ in range(4):
        vote(poll)
    run_at_once(lambda: poll_tally(poll_id=poll.pk, final=True))
    assert PollTally.objects.get(poll=poll).participants == 4
    city_rows = OptionTally.objects.filter(poll=poll, dimension="")
    assert city_rows.count() == 3  # one option, one option, one scale value
    assert sum(city_rows.values_list("count", flat=True)) == 12


@pytest.mark.django_db(transaction=True)
def test_a_failed_tally_leaves_the_previous_tally(monkeypatch):
    """A tally that dies half-way (here: a broken statement) rolls back; the earlier stored
    tally stays, and the next run completes."""
    poll = three_question_poll()
    vote(poll)
    poll_tally(poll_id=poll.pk, final=False)
    vote(poll)
    from polls import services

    monkeypatch.setattr(services, "INSERT_TALLIES", [*services.INSERT_TALLIES, "SELECT 1/0"])
    with pytest.raises(Exception, match="division by zero"):
        poll_tally(poll_id=poll.pk, final=False)
    assert PollTally.objects.get(poll=poll).participants == 1
    assert OptionTally.objects.filter(poll=poll).exists()
    monkeypatch.undo()
    poll_tally(poll_id=poll.pk, final=False)
    assert PollTally.objects.get(poll=poll).participants == 2


@pytest.mark.django_db
def test_results_are_published_and_announced_once(mailoutbox):
    """Publishing twice notifies each participant once, in-app and by one email in their
    language; a second email run sends nothing."""
    poll = three_question_poll(title="Парки")
    russian, english = UserFactory(language="ru"), UserFactory(language="en")
    vote(poll, russian)
    vote(poll, english)
    Poll.objects.filter(pk=poll.pk).update(closed_at=timezone.now())
    assert tally_and_publish(poll.pk) is True
    assert tally_and_publish(poll.pk) is False
    assert Notification.objects.filter(key=f"poll:{poll.pk}:results").count() == 2

    assert notifications_email_batch() == 2
    assert notifications_email_batch() == 0
    subjects = {message.to[0]: message.subject for message in mailoutbox}
    assert "Результаты" in subjects[russian.email]
    assert "Results of “Парки” are published" in subjects[english.email]
    assert f"/polls/{poll.pk}/results/" in mailoutbox[0].body


@pytest.mark.django_db(transaction=True)
def test_parallel_email_runs_send_each_notification_once():
    poll = three_question_poll()
    for _ in range(30):
        vote(poll)
    Poll.objects.filter(pk=poll.pk).update(closed_at=timezone.now())
    tally_and_publish(poll.pk)
    mail.outbox = []
    run_at_once(lambda: notifications_email_batch(batch_size=7), times=4)
    while notifications_email_batch(batch_size=7):
        pass
    assert len(mail.outbox) == 30  # every notification emailed exactly once (below: by whom)
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        Notification.objects.values_list("user__email", flat=True)
    )


class FailingAfterTwo:
    """An email backend whose server goes away after two messages."""

    sent = 0

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        if FailingAfterTwo.sent >= 2:
            raise OSError("SMTP server went away")
        FailingAfterTwo.sent += len(messages)
        return len(messages)


@pytest.mark.django_db
def test_unsent_notifications_are_released_when_the_mail_server_fails(settings):
    settings.EMAIL_BACKEND = f"{__name__}.FailingAfterTwo"
    poll = three_question_poll()
    for _ in range(5):
        vote(poll)
    Poll.objects.filter(pk=poll.pk).update(closed_at=timezone.now())
    tally_and_publish(poll.pk)
    with pytest.raises(OSError):
        notifications_email_batch()
    assert Notification.objects.filter(emailed_at__isnull=False).count() == 2
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 3


@pytest.mark.django_db
def test_voting_works_with_the_broker_and_cache_down(client, settings):
    """Nothing on the voting path waits for Redis: with it unreachable, residents vote; the
    count catches up when the periodic task runs again."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2},
        }
    }
    from civic.celery import app

    broker = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        poll = three_question_poll(results_visibility=ResultsVisibility.LIVE)
        resident = UserFactory()
        client.force_login(resident)
        single, multiple, scale = poll.questions.all()
        response = client.post(
            f"/polls/{poll.pk}/",
            {
                f"q{single.pk}": single.options.first().pk,
                f"q{multiple.pk}": multiple.options.first().pk,
                f"q{scale.pk}": 3,
            },
        )
        assert response.status_code == 201
    finally:
        app.conf.broker_url = broker
    assert polls_live_open() == [poll.pk]
    poll_tally(poll_id=poll.pk, final=False)
    assert PollTally.objects.get(poll=poll).participants == 1


@pytest.mark.django_db
def test_publishing_before_the_final_tally_does_nothing():
    poll = three_question_poll()
    assert poll_results_publish(poll_id=poll.pk) is False
    assert not Notification.objects.exists()


@pytest.mark.django_db
def test_a_late_live_recount_does_not_undo_the_final_count():
    poll = three_question_poll(results_visibility=ResultsVisibility.LIVE)
    vote(poll)
    Poll.objects.filter(pk=poll.pk).update(closed_at=timezone.now())
    tally_and_publish(poll.pk)
    poll_tally(poll_id=poll.pk, final=False)  # a refresh that was queued before closing
    assert PollTally.objects.get(poll=poll).final
