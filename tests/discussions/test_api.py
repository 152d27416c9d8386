"""The discussions API end to end, success and refusal side by side."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from discussions.models import Post, Report, Support
from discussions.services import discussion_summary_publish, post_hide, proposal_answer
from tests.accounts.factories import UserFactory
from tests.civic.factories import BuildingFactory, DistrictFactory
from tests.discussions.factories import (
    DiscussionFactory,
    PostFactory,
    ProposalFactory,
    ReplyFactory,
    SupportFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def district():
    return DistrictFactory(name="Арбат")


@pytest.fixture
def discussion(district):
    return DiscussionFactory(scope="areas", districts=[district])


@pytest.fixture
def resident(api, district):
    user = UserFactory(language="en", home_building=BuildingFactory(district=district))
    api.force_authenticate(user)
    return user


def detail(api, discussion, **params):
    response = api.get(reverse("api_discussion", args=[discussion.pk]), params)
    assert response.status_code == 200
    return response.json()


def test_the_list_says_who_may_take_part_and_why_not(api, discussion, district):
    DiscussionFactory(scope="city", closes_at=timezone.now() + timedelta(days=30))
    ProposalFactory(discussion=discussion)
    anonymous = api.get(reverse("api_discussions")).json()["results"]
    assert [item["id"] for item in anonymous][0] == discussion.pk  # closes first
    assert anonymous[0]["districts"] == ["Арбат"] and anonymous[0]["proposal_count"] == 1
    assert anonymous[0]["can_post"] is False and anonymous[0]["reason"] == "not_signed_in"
    api.force_authenticate(UserFactory(home_building=BuildingFactory(district=district)))
    mine = api.get(reverse("api_discussions"), {"state": "open"}).json()["results"]
    assert [(item["can_post"], item["phase"]) for item in mine] == [(True, "open")] * 2
    assert api.get(reverse("api_discussions"), {"state": "closed"}).json()["results"] == []
    later = api.get(reverse("api_discussions"), {"state": "later"}, HTTP_ACCEPT_LANGUAGE="ru")
    assert later.status_code == 400
    assert later.json()["detail"] == "Параметр state: open, upcoming или closed."


def test_detail_has_the_threads_with_replies_supports_and_answers(api, resident, discussion):
    proposal = ProposalFactory(discussion=discussion, text="Велодорожка")
    SupportFactory(post=proposal, user=resident)
    ReplyFactory(parent=proposal, text="Согласен")
    proposal_answer(post=proposal, text="Сделаем.", by=UserFactory(is_staff=True))
    body = detail(api, discussion)
    assert body["can_post"] is True and body["summary"] is None
    [thread] = body["posts"]["results"]
    assert thread["text"] == "Велодорожка" and thread["supports"] == 1
    assert thread["supported"] is True and thread["official_answer"]["text"] == "Сделаем."
    assert [reply["text"] for reply in thread["replies"]] == ["Согласен"]
    assert thread["author_district"] == proposal.author_district.name and not thread["mine"]


def test_posting_a_proposal_and_a_comment(api, resident, discussion):
    url = reverse("api_discussion_post", args=[discussion.pk])
    created = api.post(url, {"kind": "proposal", "text": "Фонтан"}, format="json")
    assert created.status_code == 201
    assert created.json()["kind"] == "proposal" and created.json()["mine"] is True
    bad = api.post(url, {"kind": "proposal", "text": "Фонтан", "extra": 1}, format="json")
    assert bad.status_code == 400 and "extra" in bad.json()["errors"]
    assert api.post(url, {"kind": "rant", "text": "Фонтан"}, format="json").status_code == 400
    rude = api.post(url, {"kind": "comment", "text": "пиздец"}, format="json")
    assert rude.status_code == 400 and rude.json()["code"] == "blocked_word"
    assert "пиздец" in rude.json()["detail"]  # the word is named
    assert Post.objects.count() == 1


def test_a_resident_outside_the_area_is_refused_with_the_reason(api, discussion):
    api.force_authenticate(UserFactory(language="en"))
    url = reverse("api_discussion_post", args=[discussion.pk])
    refused = api.post(url, {"kind": "comment", "text": "Привет"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "out_of_scope" and "Арбат" in refused.json()["detail"]
    assert detail(api, discussion)["reason"] == "out_of_scope"
    api.force_authenticate(None)
    assert api.post(url, {"kind": "comment", "text": "Привет"}, format="json").status_code == 401
    assert not Post.objects.exists()


def test_a_reply_to_a_reply_joins_the_top_level_thread(api, resident, discussion):
    top = PostFactory(discussion=discussion)
    reply = ReplyFactory(parent=top)
    response = api.post(
        reverse("api_discussion_reply", args=[reply.pk]), {"text": "Ответ"}, format="json"
    )
    assert response.status_code == 201 and response.json()["reply_to"] == top.pk
    missing = api.post(
        reverse("api_discussion_reply", args=[999999]), {"text": "Да"}, format="json"
    )
    assert missing.status_code == 404


def test_support_once_and_report_once(api, resident, discussion):
    proposal = ProposalFactory(discussion=discussion)
    support = reverse("api_discussion_support", args=[proposal.pk])
    assert api.post(support).json() == {"supports": 1}
    again = api.post(support)
    assert again.status_code == 409 and again.json()["code"] == "already_supported"
    report = reverse("api_discussion_report", args=[proposal.pk])
    assert api.post(report, {"reason": "spam"}, format="json").status_code == 204
    twice = api.post(report, {"reason": "spam"}, format="json")
    assert twice.status_code == 409 and twice.json()["code"] == "already_reported"
    assert api.post(report, {"reason": "meh"}, format="json").status_code == 400
    assert Support.objects.count() == 1 and Report.objects.count() == 1


def test_a_hidden_post_is_shown_to_its_author_with_the_reason_only(api, resident, discussion):
    mine = PostFactory(discussion=discussion, author=resident, text="Мой текст")
    post_hide(post=mine, reason="Реклама", by=UserFactory(is_staff=True))
    [thread] = detail(api, discussion)["posts"]["results"]
    assert (thread["text"], thread["hidden"], thread["hidden_reason"]) == (
        "Мой текст",
        True,
        "Реклама",
    )
    api.force_authenticate(UserFactory())
    [thread] = detail(api, discussion)["posts"]["results"]
    assert (thread["text"], thread["hidden"], thread["hidden_reason"]) == (None, True, None)


def test_a_hidden_proposal_has_no_official_answer(api, resident, discussion):
    proposal = ProposalFactory(discussion=discussion, author=resident, text="Велодорожка")
    staff = UserFactory(is_staff=True)
    proposal_answer(post=proposal, text="Сделаем.", by=staff)
    post_hide(post=proposal, reason="Спам", by=staff)
    for visitor in (resident, UserFactory()):
        api.force_authenticate(visitor)
        [thread] = detail(api, discussion)["posts"]["results"]
        assert thread["official_answer"] is None


def test_the_summary_comes_with_an_ended_discussion(api):
    ended = DiscussionFactory(
        opens_at=timezone.now() - timedelta(days=9), closes_at=timezone.now() - timedelta(hours=1)
    )
    proposal = ProposalFactory(discussion=ended)
    SupportFactory(post=proposal)
    discussion_summary_publish(discussion_id=ended.pk)
    body = detail(api, ended)
    assert body["phase"] == "closed" and body["reason"] == "discussion_closed"
    assert body["summary"]["proposals"] == 1
    assert body["summary"]["top"] == [{"rank": 1, "post": proposal.pk, "supports": 1}]


def test_posting_is_rate_limited_on_the_comment_scope(api, resident, discussion, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "comment": "2/h"}
    url = reverse("api_discussion_post", args=[discussion.pk])
    for text in ("Раз", "Два"):
        assert api.post(url, {"kind": "comment", "text": text}, format="json").status_code == 201
    limited = api.post(url, {"kind": "comment", "text": "Три"}, format="json")
    assert limited.status_code == 429 and limited.json()["code"] == "throttled"
    assert limited["Retry-After"]
    assert Post.objects.count() == 2


def test_detail_and_list_cost_the_same_queries_for_any_number_of_posts(
    api, resident, discussion, django_assert_max_num_queries
):
    def grow():
        proposal = ProposalFactory(discussion=discussion)
        SupportFactory.create_batch(2, post=proposal)
        ReplyFactory.create_batch(2, parent=proposal)

    grow()
    # resident with home and email; discussion, okrugs, districts, documents; count of
    # threads, threads, replies; official answers
    with django_assert_max_num_queries(9) as counted:
        detail(api, discussion)
    with django_assert_max_num_queries(5) as listed:
        api.get(reverse("api_discussions"))
    for _ in range(8):
        grow()
        DiscussionFactory(scope="areas", districts=[DistrictFactory()])
    with django_assert_max_num_queries(len(counted)):
        assert len(detail(api, discussion)["posts"]["results"]) == 9
    with django_assert_max_num_queries(len(listed)):
        api.get(reverse("api_discussions"))


def test_threads_are_paginated(api, discussion):
    PostFactory.create_batch(31, discussion=discussion)
    first = detail(api, discussion)["posts"]
    assert first["count"] == 31 and len(first["results"]) == 30 and first["next"]
    second = detail(api, discussion, page=2)["posts"]
    assert len(second["results"]) == 1 and second["previous"] and second["next"] is None


def test_the_schema_documents_the_endpoints(api, db):
    paths = api.get(reverse("api_schema"), {"format": "json"}).json()["paths"]
    for path in (
        "/api/discussions/",
        "/api/discussions/{discussion_id}/",
        "/api/discussions/{discussion_id}/posts/",
        "/api/discussions/posts/{post_id}/reply/",
        "/api/discussions/posts/{post_id}/support/",
        "/api/discussions/posts/{post_id}/report/",
    ):
        assert path in paths
