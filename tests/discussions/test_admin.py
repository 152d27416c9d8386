"""The admin: opening a discussion with its documents, moderating reported posts and giving
official answers, each by the people whose group allows it."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.groups import CITY_ADMINS, CITY_STAFF
from accounts.models import Notification
from discussions.models import Discussion, Post
from discussions.services import discussion_summary_publish
from tests.accounts.factories import UserFactory
from tests.civic.factories import DistrictFactory
from tests.discussions.factories import (
    DiscussionFactory,
    PostFactory,
    ProposalFactory,
    ReportFactory,
)

pytestmark = pytest.mark.django_db


def member(group: str):
    user = UserFactory(is_staff=True, language="en")
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def city_admin(city_groups, client):
    user = member(CITY_ADMINS)
    client.force_login(user)
    return user


def discussion_form(**fields) -> dict:
    now = timezone.localtime()
    return {
        "title": "Новый сквер на Арбате",
        "description": "Проект сквера.",
        "scope": "areas",
        "opens_at_0": now.strftime("%Y-%m-%d"),
        "opens_at_1": "00:00:00",
        "closes_at_0": (now + timedelta(days=14)).strftime("%Y-%m-%d"),
        "closes_at_1": "00:00:00",
        "documents-TOTAL_FORMS": "1",
        "documents-INITIAL_FORMS": "0",
        "documents-0-position": "1",
        "documents-0-title": "Пояснительная записка",
        "documents-0-file": SimpleUploadedFile("note.pdf", b"%PDF-1.4\n%%EOF\n"),
        **fields,
    }


def test_a_city_admin_opens_a_discussion_with_a_document_for_a_district(client, city_admin):
    district = DistrictFactory(name="Арбат")
    add = reverse("admin:discussions_discussion_add")
    assert client.get(add).status_code == 200
    refused = client.post(add, discussion_form())
    assert "Choose at least one okrug or district" in refused.content.decode()
    city_with_areas = client.post(add, discussion_form(scope="city", districts=[district.pk]))
    assert "A whole-city discussion has no okrugs or districts" in city_with_areas.content.decode()
    backwards = client.post(add, discussion_form(districts=[district.pk], closes_at_0="2020-01-01"))
    assert "The discussion must close after it opens." in backwards.content.decode()

    created = client.post(add, discussion_form(districts=[district.pk]))
    assert created.status_code == 302
    discussion = Discussion.objects.get()
    assert discussion.created_by == city_admin
    assert list(discussion.districts.all()) == [district]
    document = discussion.documents.get()
    assert document.title == "Пояснительная записка" and document.is_pdf
    assert document.file.name.startswith("discussions/") and "note" not in document.file.name


def test_a_document_that_is_neither_pdf_nor_image_is_refused(client, city_admin):
    district = DistrictFactory()
    form = discussion_form(
        districts=[district.pk],
        **{"documents-0-file": SimpleUploadedFile("plan.pdf", b"<html>not a pdf</html>")},
    )
    response = client.post(reverse("admin:discussions_discussion_add"), form)
    assert response.status_code == 200
    assert "not a readable image" in response.content.decode()
    assert not Discussion.objects.exists()


def test_reported_posts_come_first_and_a_moderator_hides_one_with_a_reason(client, city_admin):
    quiet = PostFactory(text="Спокойный пост")
    reported = PostFactory(text="Грубый пост", discussion=quiet.discussion)
    report = ReportFactory(post=reported)
    listing = client.get(reverse("admin:discussions_post_changelist"))
    assert [post.pk for post in listing.context["cl"].result_list][:2] == [reported.pk, quiet.pk]
    waiting = client.get(reverse("admin:discussions_post_changelist"), {"reported": "waiting"})
    assert [post.pk for post in waiting.context["cl"].result_list] == [reported.pk]

    change = reverse("admin:discussions_post_change", args=[reported.pk])
    inline = {
        "reports-TOTAL_FORMS": "1",
        "reports-INITIAL_FORMS": "1",
        "reports-0-id": str(report.pk),
        "reports-0-post": str(reported.pk),
    }
    refused = client.post(change, {"hide": "on", "reason": "", **inline})
    assert "Give the reason for hiding the post" in refused.content.decode()
    assert client.post(change, {"hide": "on", "reason": "Оскорбления", **inline}).status_code == 302
    reported.refresh_from_db()
    assert reported.hidden_reason == "Оскорбления" and reported.hidden_by == city_admin
    notice = Notification.objects.get(user=reported.author, kind="discussion_post_hidden")
    assert notice.params == {"discussion": reported.discussion.title, "reason": "Оскорбления"}

    client.force_login(reported.author)
    page = client.get(reverse("discussion_detail", args=[reported.discussion_id]))
    assert "Оскорбления" in page.content.decode()


def test_an_official_answer_in_the_admin_notifies_the_author(client, city_admin):
    proposal = ProposalFactory()
    change = reverse("admin:discussions_post_change", args=[proposal.pk])
    inline = {"reports-TOTAL_FORMS": "0", "reports-INITIAL_FORMS": "0"}
    response = client.post(change, {"official_answer": "Включим в проект.", **inline})
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.answer == "Включим в проект." and proposal.answered_by == city_admin
    assert Notification.objects.filter(user=proposal.author, kind="discussion_answer").count() == 1
    comment_page = client.get(reverse("admin:discussions_post_change", args=[PostFactory().pk]))
    assert "official_answer" not in comment_page.context["adminform"].form.fields


def test_city_staff_answer_proposals_but_do_not_moderate(client, city_groups):
    analyst = member(CITY_STAFF)
    client.force_login(analyst)
    proposal = ProposalFactory()
    page = client.get(reverse("admin:discussions_post_change", args=[proposal.pk]))
    assert set(page.context["adminform"].form.fields) == {"official_answer"}
    inline = {"reports-TOTAL_FORMS": "0", "reports-INITIAL_FORMS": "0"}
    response = client.post(
        reverse("admin:discussions_post_change", args=[proposal.pk]),
        {"official_answer": "Ответ аналитика", "hide": "on", "reason": "Хочу скрыть", **inline},
    )
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.answer == "Ответ аналитика" and proposal.hidden_at is None
    assert client.get(reverse("admin:discussions_discussion_add")).status_code == 403


def test_the_period_is_locked_once_the_summary_is_published(client, city_admin):
    discussion = DiscussionFactory(
        opens_at=timezone.now() - timedelta(days=10), closes_at=timezone.now() - timedelta(hours=1)
    )
    discussion_summary_publish(discussion_id=discussion.pk)
    change = reverse("admin:discussions_discussion_change", args=[discussion.pk])
    page = client.get(change)
    assert "Download the summary (CSV)" in page.content.decode()
    closes = timezone.localtime(discussion.closes_at) + timedelta(days=1)
    form = discussion_form(
        scope="city",
        title=discussion.title,
        opens_at_0=timezone.localtime(discussion.opens_at).strftime("%Y-%m-%d"),
        opens_at_1=timezone.localtime(discussion.opens_at).strftime("%H:%M:%S"),
        closes_at_0=closes.strftime("%Y-%m-%d"),
        closes_at_1=closes.strftime("%H:%M:%S"),
        **{"documents-TOTAL_FORMS": "0"},
    )
    response = client.post(change, form)
    assert "the period can no longer change" in response.content.decode()
    assert Post.objects.count() == 0
