"""Decisions taken after polls: recording them, their append-only history, the rules the
database keeps, and the notices to the polls' participants."""

from datetime import timedelta

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import Notification, NotificationKind
from accounts.notifications import notifications_email_batch
from civic.celery import app as celery_app
from polls.models import Decision, DecisionStatus, DecisionUpdate, Poll, PollStatus
from polls.services import (
    DecisionError,
    DecisionStep,
    decision_announce,
    decision_update,
    decisions_to_announce,
)
from polls.tasks import announce_decision, announce_decisions
from tests.accounts.factories import UserFactory
from tests.civic.factories import BuildingFactory
from tests.polls.factories import PollFactory, closed_poll, decision_recorded
from tests.polls.test_schedule import run_at_once, vote

TODAY = timezone.localdate
DAY = timedelta(days=1)


def step(status, *, note="", days_ago=0) -> DecisionStep:
    return DecisionStep(status=status, on=TODAY() - timedelta(days=days_ago), note=note)


def history(decision) -> list[tuple[str, str]]:
    return list(decision.updates.order_by("pk").values_list("status", "note"))


def check_deferred_rules() -> None:
    """Run the checks the database defers to the commit now (tests never commit)."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


@pytest.fixture
def eager_tasks():
    """Tasks queued with .delay() run at once, in this process (no worker in these tests)."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


# --- recording and updating -------------------------------------------------------------------


@pytest.mark.django_db
def test_a_decision_is_recorded_with_its_first_step():
    """Recording writes the decision and the first step of its history, with who and when;
    its status is that step's; text and body are stored trimmed."""
    admin = UserFactory(is_staff=True)
    poll = closed_poll()
    decision = decision_recorded(
        poll, text="  Продлить часы работы  ", on=TODAY() - timedelta(days=1), by=admin
    )
    decision.refresh_from_db()
    assert decision.text == "Продлить часы работы"
    assert decision.status == DecisionStatus.PLANNED
    assert decision.decided_on == TODAY() - timedelta(days=1)
    (first,) = decision.updates.all()
    assert (first.status, first.date, first.created_by) == (
        DecisionStatus.PLANNED,
        decision.decided_on,
        admin,
    )
    check_deferred_rules()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("poll_fields", "code"),
    [
        ({"opens_at_days": -1, "closes_at_days": 5}, "poll_not_closed"),  # open
        ({"opens_at_days": 2, "closes_at_days": 5}, "poll_not_closed"),  # upcoming
        (
            {"opens_at_days": -9, "closes_at_days": -1, "status": PollStatus.DRAFT},
            "poll_not_closed",
        ),
        ({"opens_at_days": -9, "closes_at_days": -1, "survey": True}, "not_a_city_poll"),
    ],
)
def test_only_closed_city_polls_take_decisions(poll_fields, code):
    now = timezone.now()
    fields = {
        "opens_at": now + timedelta(days=poll_fields.pop("opens_at_days")),
        "closes_at": now + timedelta(days=poll_fields.pop("closes_at_days")),
    }
    if poll_fields.pop("survey", False):
        fields |= {"scope": "building", "building": BuildingFactory(), "points": 5}
    poll = PollFactory(**fields, **poll_fields)
    with pytest.raises(DecisionError) as refused:
        decision_recorded(poll, on=TODAY() - timedelta(days=10))
    assert refused.value.code == code and refused.value.field == "poll"
    assert not Decision.objects.exists()


@pytest.mark.django_db
def test_what_who_and_the_date_are_checked():
    poll = closed_poll()
    cases = [
        ({"text": "   "}, "text_required"),
        ({"on": TODAY() + timedelta(days=1)}, "future_date"),
        ({"on": TODAY() - timedelta(days=30)}, "date_before_poll"),
        ({"status": "postponed"}, "unknown_status"),
    ]
    for fields, code in cases:
        with pytest.raises(DecisionError) as refused:
            decision_recorded(poll, **fields)
        assert refused.value.code == code
    assert not Decision.objects.exists()


@pytest.mark.django_db
def test_declined_needs_a_reason_in_the_service_and_in_the_database():
    """A decline without a reason (or with only spaces) is refused by the service; the CHECK
    constraint refuses one written past it."""
    poll = closed_poll()
    for note in ("", "   "):
        with pytest.raises(DecisionError) as refused:
            decision_recorded(poll, status=DecisionStatus.DECLINED, note=note)
        assert (refused.value.code, refused.value.field) == ("reason_required", "note")
    decision = decision_recorded(poll)
    with pytest.raises(DecisionError, match="needs its reason"):
        decision_update(decision=decision, step=step(DecisionStatus.DECLINED), updated_by=None)

    with pytest.raises(IntegrityError, match="decision_declined_with_reason"), transaction.atomic():
        DecisionUpdate.objects.create(
            decision=decision, status=DecisionStatus.DECLINED, note=" \n", date=TODAY()
        )
    declined = decision_update(
        decision=decision,
        step=step(DecisionStatus.DECLINED, note="Нет средств в бюджете 2027 года"),
        updated_by=None,
    )
    assert declined.note == "Нет средств в бюджете 2027 года"
    assert Decision.objects.get(pk=decision.pk).status == DecisionStatus.DECLINED


@pytest.mark.django_db
def test_every_update_is_kept_and_the_status_follows_the_latest():
    admin = UserFactory(is_staff=True)
    decision = decision_recorded(closed_poll(), on=TODAY() - timedelta(days=5))
    decision_update(
        decision=decision, step=step(DecisionStatus.IN_PROGRESS, days_ago=3), updated_by=admin
    )
    decision_update(
        decision=decision,
        step=step(DecisionStatus.IN_PROGRESS, note="Закуплена мебель", days_ago=2),
        updated_by=admin,
    )
    decision_update(decision=decision, step=step(DecisionStatus.DONE), updated_by=admin)
    assert history(decision) == [
        (DecisionStatus.PLANNED, ""),
        (DecisionStatus.IN_PROGRESS, ""),
        (DecisionStatus.IN_PROGRESS, "Закуплена мебель"),
        (DecisionStatus.DONE, ""),
    ]
    assert decision.status == Decision.objects.get(pk=decision.pk).status == DecisionStatus.DONE
    assert set(decision.updates.values_list("created_by", flat=True)) == {None, admin.pk}
    check_deferred_rules()


@pytest.mark.django_db
def test_an_update_must_say_something_new_and_keep_the_order_of_dates():
    decision = decision_recorded(closed_poll(), on=TODAY() - timedelta(days=2))
    refusals = [
        (step(DecisionStatus.PLANNED), "nothing_changed"),
        (step(DecisionStatus.PLANNED, note="   "), "nothing_changed"),
        (step(DecisionStatus.DONE, days_ago=3), "date_before_last_update"),
        (step(DecisionStatus.DONE, days_ago=-1), "future_date"),
    ]
    for refused_step, code in refusals:
        with pytest.raises(DecisionError) as refused:
            decision_update(decision=decision, step=refused_step, updated_by=None)
        assert refused.value.code == code
    assert len(history(decision)) == 1
    decision_update(
        decision=decision, step=step(DecisionStatus.PLANNED, note="Проект готов"), updated_by=None
    )
    assert history(decision)[-1] == (DecisionStatus.PLANNED, "Проект готов")


# --- what the database keeps -------------------------------------------------------------------


@pytest.mark.django_db
def test_the_history_is_never_updated_or_deleted():
    decision = decision_recorded(closed_poll())
    first = decision.updates.get()
    for change in (
        lambda: DecisionUpdate.objects.filter(pk=first.pk).update(note="переписано"),
        lambda: DecisionUpdate.objects.filter(pk=first.pk).update(status=DecisionStatus.DONE),
        lambda: DecisionUpdate.objects.filter(pk=first.pk).delete(),
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            change()
    assert history(decision) == [(DecisionStatus.PLANNED, "")]


@pytest.mark.django_db
def test_what_was_decided_never_changes_and_a_decision_is_never_deleted():
    decision = decision_recorded(closed_poll())
    for change in (
        lambda: Decision.objects.filter(pk=decision.pk).update(text="Другое решение"),
        lambda: Decision.objects.filter(pk=decision.pk).update(responsible_body="Никто"),
        lambda: Decision.objects.filter(pk=decision.pk).update(decided_on=TODAY() - DAY),
        lambda: Decision.objects.filter(pk=decision.pk).update(poll=closed_poll()),
        lambda: Decision.objects.filter(pk=decision.pk).update(recorded_by=UserFactory()),
        lambda: connection.cursor().execute(  # past the ORM's own PROTECT
            "DELETE FROM polls_decision WHERE id = %s", [decision.pk]
        ),
    ):
        with pytest.raises(DatabaseError, match="polls_decision"), transaction.atomic():
            change()
    assert Decision.objects.get(pk=decision.pk).text == "Открыть библиотеки до 22:00"


@pytest.mark.django_db
def test_the_status_cannot_leave_its_history_behind():
    """A status written without a step of history, or a decision without any, fails at
    the commit (the check is deferred: a decision and its first step come one by one)."""
    decision = decision_recorded(closed_poll())
    with pytest.raises(DatabaseError, match="latest update"), transaction.atomic():
        Decision.objects.filter(pk=decision.pk).update(status=DecisionStatus.DONE)
        check_deferred_rules()
    with pytest.raises(DatabaseError, match="latest update"), transaction.atomic():
        Decision.objects.create(
            poll=decision.poll, text="Без истории", responsible_body="Мэрия", decided_on=TODAY()
        )
        check_deferred_rules()


@pytest.mark.django_db
def test_deleting_an_admins_account_keeps_the_history_without_the_name():
    admin = UserFactory(is_staff=True)
    decision = decision_recorded(closed_poll(), by=admin)
    decision_update(decision=decision, step=step(DecisionStatus.DONE), updated_by=admin)
    admin.delete()
    decision.refresh_from_db()
    assert decision.recorded_by is None
    assert list(decision.updates.values_list("created_by", flat=True)) == [None, None]
    assert len(history(decision)) == 2


@pytest.mark.django_db(transaction=True)
def test_two_admins_moving_a_decision_at_once_are_checked_one_after_the_other():
    """Both mark it done at the same moment: the row lock queues them, so the second sees
    the first's step and is refused as saying nothing new; the history has one "done"."""
    decision = decision_recorded(closed_poll())

    def mark_done():
        try:
            decision_update(decision=decision, step=step(DecisionStatus.DONE), updated_by=None)
        except DecisionError as error:
            return error.code
        return "done"

    assert sorted(run_at_once(mark_done)) == ["done", "nothing_changed"]
    assert history(decision) == [(DecisionStatus.PLANNED, ""), (DecisionStatus.DONE, "")]


# --- telling the participants ------------------------------------------------------------------


def notified(kind) -> list[int]:
    return sorted(Notification.objects.filter(kind=kind).values_list("user_id", flat=True))


@pytest.mark.django_db
def test_participants_are_told_once_when_it_is_recorded_and_once_when_it_is_done(eager_tasks):
    """Everyone who voted, and nobody else, is notified when the decision is recorded and
    when it is done, once each, however often beat runs; done again later tells nobody."""
    poll = closed_poll(title="Библиотеки")
    voters = UserFactory.create_batch(3)
    Poll.objects.filter(pk=poll.pk).update(closes_at=timezone.now() + timedelta(days=1))
    for voter in voters:
        vote(poll, voter)
    Poll.objects.filter(pk=poll.pk).update(closes_at=timezone.now() - timedelta(hours=1))
    UserFactory()  # did not vote
    decision = decision_recorded(Poll.objects.get(pk=poll.pk))

    assert announce_decisions() == [decision.pk]
    assert announce_decisions() == []
    assert announce_decision(decision.pk) is None
    assert notified(NotificationKind.DECISION_RECORDED) == sorted(v.pk for v in voters)

    decision_update(decision=decision, step=step(DecisionStatus.IN_PROGRESS), updated_by=None)
    assert announce_decisions() == []
    decision_update(decision=decision, step=step(DecisionStatus.DONE), updated_by=None)
    assert announce_decisions() == [decision.pk]
    announce_decisions()
    assert notified(NotificationKind.DECISION_DONE) == sorted(v.pk for v in voters)

    decision_update(decision=decision, step=step(DecisionStatus.IN_PROGRESS), updated_by=None)
    decision_update(decision=decision, step=step(DecisionStatus.DONE), updated_by=None)
    assert decisions_to_announce() == []
    assert Notification.objects.count() == 6
    notice = Notification.objects.filter(kind=NotificationKind.DECISION_DONE).first()
    assert notice.url == f"/polls/{poll.pk}/results/#decision-{decision.pk}"
    assert notice.params["title"] == "Библиотеки"


@pytest.mark.django_db
def test_a_decision_recorded_as_done_is_announced_once_as_done():
    poll = closed_poll()
    Poll.objects.filter(pk=poll.pk).update(closes_at=timezone.now() + timedelta(days=1))
    vote(poll)
    Poll.objects.filter(pk=poll.pk).update(closes_at=timezone.now() - timedelta(hours=1))
    decision = decision_recorded(Poll.objects.get(pk=poll.pk), status=DecisionStatus.DONE)
    assert decision_announce(decision_id=decision.pk) == NotificationKind.DECISION_DONE
    assert decision_announce(decision_id=decision.pk) is None
    assert Notification.objects.get().kind == NotificationKind.DECISION_DONE
    decision.refresh_from_db()
    assert decision.announced_at and decision.done_announced_at


@pytest.fixture
def voted_poll():
    """A closed poll with 7 participants."""
    poll = closed_poll()
    Poll.objects.filter(pk=poll.pk).update(closes_at=timezone.now() + timedelta(days=1))
    for _ in range(7):
        vote(poll)
    Poll.objects.filter(pk=poll.pk).update(closes_at=timezone.now() - timedelta(hours=1))
    return Poll.objects.get(pk=poll.pk)


@pytest.mark.django_db
def test_participants_are_notified_in_batches(voted_poll, django_assert_max_num_queries):
    """Seven participants in batches of three: three batches of two statements each, and
    each participant once."""
    decision = decision_recorded(voted_poll)
    with django_assert_max_num_queries(2 + 3 * 2 + 1):
        decision_announce(decision_id=decision.pk, batch_size=3)
    assert len(set(notified(NotificationKind.DECISION_RECORDED))) == 7
    assert Notification.objects.count() == 7


@pytest.mark.django_db
def test_a_crash_half_way_is_finished_by_the_next_run(voted_poll, monkeypatch):
    """The first run dies after its first batch: the decision stays unannounced, and the
    next run notifies the rest — nobody twice."""
    from polls import services

    decision = decision_recorded(voted_poll)
    real_create = services.notifications_create
    calls = []

    def dies_after_one_batch(**kwargs):
        if calls:
            raise ConnectionError("worker killed")
        calls.append(1)
        real_create(**kwargs)

    monkeypatch.setattr(services, "notifications_create", dies_after_one_batch)
    with pytest.raises(ConnectionError):
        decision_announce(decision_id=decision.pk, batch_size=3)
    assert Notification.objects.count() == 3
    assert decisions_to_announce() == [decision.pk]
    monkeypatch.undo()
    decision_announce(decision_id=decision.pk, batch_size=3)
    assert Notification.objects.count() == 7 and decisions_to_announce() == []


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_notify_each_participant_once(voted_poll):
    decision = decision_recorded(voted_poll)
    run_at_once(lambda: decision_announce(decision_id=decision.pk, batch_size=2), times=3)
    assert Notification.objects.count() == 7
    assert len(set(notified(NotificationKind.DECISION_RECORDED))) == 7
    assert decisions_to_announce() == []


@pytest.mark.django_db
def test_the_notices_speak_each_residents_language(mailoutbox):
    poll = closed_poll(title="Парки")
    russian, english = UserFactory(language="ru"), UserFactory(language="en")
    Poll.objects.filter(pk=poll.pk).update(closes_at=timezone.now() + timedelta(days=1))
    vote(poll, russian)
    vote(poll, english)
    Poll.objects.filter(pk=poll.pk).update(closes_at=timezone.now() - timedelta(hours=1))
    decision = decision_recorded(Poll.objects.get(pk=poll.pk), text="Новые скамейки")
    decision_announce(decision_id=decision.pk)
    decision_update(decision=decision, step=step(DecisionStatus.DONE), updated_by=None)
    decision_announce(decision_id=decision.pk)
    assert notifications_email_batch() == 4
    subjects = {(m.to[0], m.subject) for m in mailoutbox}
    assert subjects == {
        (english.email, "[Civic] The city's decision after the poll “Парки”"),
        (english.email, "[Civic] Done: the decision after the poll “Парки”"),
        (russian.email, "[Civic] Решение города по итогам опроса «Парки»"),
        (russian.email, "[Civic] Выполнено решение по итогам опроса «Парки»"),
    }
    english_recorded = next(m.body for m in mailoutbox if "city's decision" in m.subject)
    assert "Decided: “Новые скамейки” Responsible: Департамент культуры." in english_recorded
    assert f"/polls/{poll.pk}/results/#decision-{decision.pk}" in english_recorded
