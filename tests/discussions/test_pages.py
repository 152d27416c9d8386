"""The discussion pages end to end: reading, posting, replying, supporting, reporting, what
a hidden post looks like to whom, the rate limit, and constant query counts."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from discussions.models import Document, Post, PostKind, Report, Support
from discussions.services import post_hide
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
def district():
    return DistrictFactory(name="Арбат")


@pytest.fixture
def discussion(district):
    return DiscussionFactory(title="Реконструкция Арбата", scope="areas", districts=[district])


@pytest.fixture
def resident(client, district):
    """A signed-in resident of the discussion's district, reading in English."""
    user = UserFactory(language="en", home_building=BuildingFactory(district=district))
    client.force_login(user)
    return user


def page_of(client, discussion) -> str:
    response = client.get(reverse("discussion_detail", args=[discussion.pk]))
    assert response.status_code == 200
    return response.content.decode()


def publish(client, discussion, text="Нужны скамейки у воды.", kind="comment"):
    return client.post(
        reverse("discussion_post", args=[discussion.pk]), {"kind": kind, "text": text}
    )


def test_the_list_shows_open_discussions_first(client, db):
    now = timezone.now()
    ended = DiscussionFactory(opens_at=now - timedelta(days=20), closes_at=now - timedelta(days=5))
    upcoming = DiscussionFactory(
        opens_at=now + timedelta(days=2), closes_at=now + timedelta(days=9)
    )
    closing_late = DiscussionFactory(closes_at=now + timedelta(days=20))
    closing_soon = DiscussionFactory(closes_at=now + timedelta(days=2))
    response = client.get(reverse("discussions"))
    assert response.status_code == 200
    order = [card.discussion for card in response.context["cards"]]
    assert order == [closing_soon, closing_late, upcoming, ended]


def test_a_resident_of_the_area_posts_a_proposal_and_sees_it(client, resident, discussion):
    page = page_of(client, discussion)
    assert f'action="/discussions/{discussion.pk}/posts/"' in page
    response = publish(client, discussion, "Сделать велодорожку", kind="proposal")
    post = Post.objects.get()
    assert response.status_code == 302
    assert response["Location"].endswith(f"/discussions/{discussion.pk}/#post-{post.pk}")
    assert (post.kind, post.author, post.author_district.name) == ("proposal", resident, "Арбат")
    page = page_of(client, discussion)
    assert "Сделать велодорожку" in page and "Your post is published." in page


def test_a_resident_elsewhere_reads_but_cannot_post_and_is_told_why(client, discussion):
    outsider = UserFactory(
        language="en", home_building=BuildingFactory(district=DistrictFactory(name="Марьино"))
    )
    PostFactory(discussion=discussion, text="Пост жителя Арбата")
    client.force_login(outsider)
    page = page_of(client, discussion)
    assert "Пост жителя Арбата" in page
    assert "This discussion is for the residents of Арбат; your home is in Марьино" in page
    assert f'action="/discussions/{discussion.pk}/posts/"' not in page
    response = publish(client, discussion)
    assert response.status_code == 403
    assert "your home is in Марьино" in response.content.decode()
    assert Post.objects.count() == 1


def test_anonymous_visitors_read_and_are_asked_to_sign_in(client, discussion):
    PostFactory(discussion=discussion, text="Открытый пост")
    page = client.get(reverse("discussion_detail", args=[discussion.pk])).content.decode()
    assert "Открытый пост" in page
    assert "/accounts/login/?next=" in page
    response = publish(client, discussion)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_listed_word_is_refused_with_the_word_named_and_the_text_kept(
    client, resident, discussion
):
    response = publish(client, discussion, "Проект — полная хуйня")
    assert response.status_code == 400
    page = response.content.decode()
    assert "not allowed in public discussions: “хуйня”" in page
    assert "Проект — полная хуйня</textarea>" in page
    assert not Post.objects.exists()


def test_an_empty_post_is_a_400(client, resident, discussion):
    assert publish(client, discussion, "").status_code == 400
    assert publish(client, discussion, "Текст", kind="rant").status_code == 400
    assert not Post.objects.exists()


def test_replies_are_shown_one_level_deep_under_their_thread(client, resident, discussion):
    top = PostFactory(discussion=discussion, text="Верхний пост")
    reply = ReplyFactory(parent=top, text="Первый ответ")
    response = client.post(reverse("discussion_reply", args=[reply.pk]), {"text": "Ответ на ответ"})
    assert response.status_code == 302
    nested = Post.objects.get(text="Ответ на ответ")
    assert nested.parent == top
    assert response["Location"].endswith(f"#post-{nested.pk}")
    page = page_of(client, discussion)
    thread = page.split(f'id="post-{top.pk}"')[1]
    assert thread.index("Первый ответ") < thread.index("Ответ на ответ")
    assert page.count('class="replies"') == 1


def test_a_bad_reply_shows_the_page_again_with_the_message(client, resident, discussion):
    top = PostFactory(discussion=discussion)
    response = client.post(reverse("discussion_reply", args=[top.pk]), {"text": "Сука"})
    assert response.status_code == 400
    assert "“Сука”" in response.content.decode()
    assert client.post(reverse("discussion_reply", args=[top.pk]), {"text": ""}).status_code == 400
    assert (
        client.post(reverse("discussion_reply", args=[999999]), {"text": "Да"}).status_code == 404
    )


def test_supporting_once_and_not_ones_own(client, resident, discussion):
    proposal = ProposalFactory(discussion=discussion)
    url = reverse("discussion_support", args=[proposal.pk])
    assert client.post(url).status_code == 302
    again = client.post(url)
    assert again.status_code == 409
    assert "You have already supported this proposal." in again.content.decode()
    assert "1 resident supports this" in page_of(client, discussion)
    mine = ProposalFactory(discussion=discussion, author=resident)
    assert client.post(reverse("discussion_support", args=[mine.pk])).status_code == 403
    assert Support.objects.count() == 1


def test_reporting_once(client, resident, discussion):
    target = PostFactory(discussion=discussion)
    url = reverse("discussion_report", args=[target.pk])
    assert client.post(url, {"reason": "nonsense"}).status_code == 400
    assert client.post(url, {"reason": "offensive"}).status_code == 302
    assert client.post(url, {"reason": "spam"}).status_code == 409
    assert Report.objects.get().reason == "offensive"
    assert "You reported this post to the moderators." in page_of(client, discussion)


def test_a_hidden_post_shows_its_author_why_and_others_only_that_it_was_hidden(
    client, resident, discussion
):
    mine = PostFactory(discussion=discussion, author=resident, text="Мой резкий пост")
    post_hide(post=mine, reason="Оскорбление соседей", by=UserFactory(is_staff=True))
    page = page_of(client, discussion)
    assert "Мой резкий пост" in page
    assert "A moderator hid your post: other residents do not see it." in page
    assert "Оскорбление соседей" in page

    client.force_login(UserFactory(language="en"))
    page = page_of(client, discussion)
    assert "Мой резкий пост" not in page and "Оскорбление соседей" not in page
    assert "Hidden by a moderator." in page


def test_documents_show_pdfs_as_downloads_and_images_inline(client, discussion):
    Document.objects.create(
        discussion=discussion, title="Пояснительная записка", file=ContentFile(b"%PDF-1.4", "a.pdf")
    )
    Document.objects.create(
        discussion=discussion, title="Схема участка", file=ContentFile(b"png", "b.png")
    )
    page = client.get(reverse("discussion_detail", args=[discussion.pk])).content.decode()
    assert "Пояснительная записка</a>" in page and "download>" in page
    assert 'alt="Схема участка"' in page


def test_posting_is_rate_limited_on_the_comment_scope(client, resident, discussion, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "comment": "2/h"}
    top = PostFactory(discussion=discussion)
    assert publish(client, discussion, "Первый").status_code == 302
    assert (
        client.post(reverse("discussion_reply", args=[top.pk]), {"text": "Второй"}).status_code
        == 302
    )
    limited = publish(client, discussion, "Третий")
    assert limited.status_code == 429
    assert "Too many requests" in limited.content.decode() and limited["Retry-After"]
    assert Post.objects.filter(author=resident).count() == 2


def test_the_discussion_page_costs_the_same_queries_for_any_number_of_posts(
    client, resident, discussion, django_assert_max_num_queries
):
    def grow():
        proposal = ProposalFactory(discussion=discussion)
        SupportFactory.create_batch(2, post=proposal)
        ReplyFactory.create_batch(2, parent=proposal)
        PostFactory(discussion=discussion, hidden_at=timezone.now(), hidden_reason="Спам")

    grow()
    # session, user, resident with home and email, unread badge, points, discussion +
    # okrugs + districts + documents (and the summary's top proposals once ended), count of
    # threads, threads, replies, official answers
    with django_assert_max_num_queries(13) as counted:
        page_of(client, discussion)
    for _ in range(8):
        grow()
    with django_assert_max_num_queries(len(counted)):
        page_of(client, discussion)


def test_the_list_costs_the_same_queries_for_any_number_of_discussions(
    client, resident, django_assert_max_num_queries
):
    DiscussionFactory(scope="areas", districts=[DistrictFactory()])
    # session, user, resident with home and email, discussions + okrugs + districts,
    # unread badge, points
    with django_assert_max_num_queries(8) as counted:
        client.get(reverse("discussions"))
    for _ in range(6):
        discussion = DiscussionFactory(scope="areas", districts=[DistrictFactory()])
        ProposalFactory.create_batch(2, discussion=discussion)
    with django_assert_max_num_queries(len(counted)):
        assert len(client.get(reverse("discussions")).context["cards"]) == 7


def test_unknown_discussions_are_404(client, db):
    assert client.get(reverse("discussion_detail", args=[999999])).status_code == 404


def test_suspended_residents_are_told_and_refused(client, discussion, district):
    user = UserFactory(
        language="en",
        home_building=BuildingFactory(district=district),
        suspended_at=timezone.now(),
        suspension_reason="Накрутка",
    )
    client.force_login(user)
    assert "Your account is suspended" in page_of(client, discussion)
    assert publish(client, discussion).status_code == 403
    assert not Post.objects.filter(kind=PostKind.COMMENT).exists()
