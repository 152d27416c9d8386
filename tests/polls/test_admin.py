from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.groups import CITY_ADMINS, CITY_STAFF
from polls.models import Participation, Poll, PollStatus, QuestionKind, Scope
from polls.services import (
    PollError,
    poll_duplicate,
    poll_publish,
    poll_unpublish,
    question_add_non_answers,
)
from tests.accounts.factories import UserFactory
from tests.civic.factories import DistrictFactory
from tests.polls.factories import (
    PollFactory,
    QuestionFactory,
    question_with_options,
    three_question_poll,
)


@pytest.fixture
def admin_client(admin_client):
    """The admin in English (the messages asserted here)."""
    admin_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return admin_client


def changelist(admin_client, action, poll):
    return admin_client.post(
        reverse("admin:polls_poll_changelist"),
        {"action": action, "_selected_action": [poll.pk]},
        follow=True,
    )


@pytest.mark.django_db
def test_publish_refuses_an_incomplete_poll_with_the_reasons():
    poll = PollFactory(status=PollStatus.DRAFT, scope=Scope.AREAS)
    QuestionFactory(poll=poll, kind=QuestionKind.SINGLE)
    with pytest.raises(PollError) as refused:
        poll_publish(poll=poll)
    assert "needs at least two options" in str(refused.value)
    assert "okrug or district" in str(refused.value)
    poll.refresh_from_db()
    assert poll.status == PollStatus.DRAFT
    empty = PollFactory(status=PollStatus.DRAFT)
    with pytest.raises(PollError, match="at least one question"):
        poll_publish(poll=empty)


@pytest.mark.django_db
def test_publish_and_unpublish_through_admin_actions(admin_client):
    poll = three_question_poll(status=PollStatus.DRAFT)
    changelist(admin_client, "publish", poll)
    poll.refresh_from_db()
    assert poll.status == PollStatus.PUBLISHED
    changelist(admin_client, "unpublish", poll)
    poll.refresh_from_db()
    assert poll.status == PollStatus.DRAFT


@pytest.mark.django_db
def test_a_poll_with_votes_cannot_be_unpublished(admin_client):
    poll = three_question_poll()
    Participation.objects.create(user=UserFactory(), poll=poll)
    with pytest.raises(PollError):
        poll_unpublish(poll=poll)
    response = changelist(admin_client, "unpublish", poll)
    assert "cannot be unpublished" in response.content.decode()
    poll.refresh_from_db()
    assert poll.status == PollStatus.PUBLISHED


@pytest.mark.django_db
def test_duplicate_copies_questions_options_and_scope_as_a_draft(admin_client):
    poll = three_question_poll()
    Participation.objects.create(user=UserFactory(), poll=poll)
    changelist(admin_client, "duplicate", poll)
    copy = Poll.objects.exclude(pk=poll.pk).get()
    assert copy.status == PollStatus.DRAFT and copy.title.endswith(poll.title)
    assert [q.text for q in copy.questions.all()] == [q.text for q in poll.questions.all()]
    assert [q.options.count() for q in copy.questions.all()] == [3, 4, 0]
    assert not copy.participations.exists()


@pytest.mark.django_db
def test_duplicate_keeps_the_area_scope():
    poll = three_question_poll(scope=Scope.AREAS)
    district = DistrictFactory()
    poll.districts.set([district])
    copy = poll_duplicate(poll=poll)
    assert list(copy.districts.all()) == [district]


@pytest.mark.django_db
def test_standard_non_answers_are_added_once():
    question = question_with_options(PollFactory(), QuestionKind.SINGLE, options=2)
    question_add_non_answers(question=question)
    question_add_non_answers(question=question)
    texts = list(question.options.values_list("text", "is_non_answer"))
    assert texts[-2:] == [
        ("Затрудняюсь ответить", True),
        ("Оставить решение на усмотрение специалистов", True),
    ]
    assert len(texts) == 4


@pytest.mark.django_db
def test_locked_poll_offers_only_safe_changes(admin_client):
    """With votes, questions and options are read-only; the closing time can only move later."""
    poll = three_question_poll()
    Participation.objects.create(user=UserFactory(), poll=poll)
    url = reverse("admin:polls_poll_change", args=[poll.pk])
    page = admin_client.get(url)
    assert "are locked" in page.content.decode()
    form = page.context["adminform"].form
    assert set(form.fields) == {"title", "description", "image", "closes_at"}
    local = poll.closes_at.astimezone()
    data = {
        "title": "Исправленный заголовок",
        "description": poll.description,
        "closes_at_0": (local - timedelta(days=1)).strftime("%Y-%m-%d"),
        "closes_at_1": local.strftime("%H:%M:%S"),
        "questions-TOTAL_FORMS": "0",
        "questions-INITIAL_FORMS": "0",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "can only be extended" in response.content.decode()


@pytest.mark.django_db
def test_changelist_shows_participants_with_a_fixed_number_of_queries(
    admin_client, django_assert_max_num_queries
):
    for _ in range(5):
        poll = three_question_poll()
        Participation.objects.create(user=UserFactory(), poll=poll)
    with django_assert_max_num_queries(12):
        response = admin_client.get(reverse("admin:polls_poll_changelist"))
    assert response.status_code == 200
    assert [row.participant_count for row in response.context["cl"].result_list] == [1] * 5


@pytest.mark.django_db
def test_city_groups_have_the_poll_permissions_they_need(city_groups):
    admins = Group.objects.get(name=CITY_ADMINS).permissions.values_list("codename", flat=True)
    staff = Group.objects.get(name=CITY_STAFF).permissions.values_list("codename", flat=True)
    assert {"add_poll", "change_poll", "add_question", "change_option"} <= set(admins)
    assert "view_poll" in staff and "change_poll" not in staff


@pytest.mark.django_db
def test_duplicate_of_a_long_title_fits_the_title_field():
    poll = three_question_poll(title="Я" * 200)
    assert len(poll_duplicate(poll=poll).title) == 200


@pytest.mark.django_db
def test_non_answers_only_for_choice_questions():
    scale = QuestionFactory(poll=PollFactory(), kind=QuestionKind.SCALE)
    with pytest.raises(PollError, match="single and multiple choice"):
        question_add_non_answers(question=scale)
    assert not scale.options.exists()


@pytest.mark.django_db
def test_open_poll_without_votes_is_locked_too(admin_client):
    """Once a published poll has opened, a vote may be in flight: its questions are frozen."""
    poll = three_question_poll()
    form = (
        admin_client.get(reverse("admin:polls_poll_change", args=[poll.pk]))
        .context["adminform"]
        .form
    )
    assert set(form.fields) == {"title", "description", "image", "closes_at"}
    draft = three_question_poll(status=PollStatus.DRAFT)
    form = (
        admin_client.get(reverse("admin:polls_poll_change", args=[draft.pk]))
        .context["adminform"]
        .form
    )
    assert "scope" in form.fields
