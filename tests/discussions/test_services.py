"""The rules of public discussions, through the services the pages and the API call."""

from datetime import timedelta

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Notification
from accounts.rules import AccountSuspended
from accounts.selectors import resident_with_home
from discussions.models import Post, PostKind, Report, Support
from discussions.moderation import blocked_word_in
from discussions.selectors import personal_data, post_for_action
from discussions.services import (
    DiscussionError,
    personal_data_erase,
    post_create,
    post_hide,
    post_report,
    post_unhide,
    proposal_answer,
    proposal_support,
    reply_create,
)
from tests.accounts.factories import UserFactory
from tests.civic.factories import BuildingFactory, DistrictFactory
from tests.discussions.factories import (
    DiscussionFactory,
    PostFactory,
    ProposalFactory,
    ReplyFactory,
)

pytestmark = pytest.mark.django_db


def resident(**fields):
    """A resident as the views pass them: with the home district loaded."""
    return resident_with_home(user_id=UserFactory(**fields).pk)


def refused(code: str, call, **kwargs) -> DiscussionError:
    with pytest.raises(DiscussionError) as error:
        call(**kwargs)
    assert error.value.code == code, str(error.value)
    return error.value


def post(user, discussion, text="Нужны скамейки у воды.", kind=PostKind.COMMENT) -> Post:
    return post_create(user=user, discussion=discussion, kind=kind, text=text)


# --- who may post: the area, the profile, the email, suspension, the period ----------------


def test_residents_of_the_area_post_and_everyone_else_is_told_why_not():
    """An area discussion takes posts from residents of its districts and of its okrugs'
    districts; a resident elsewhere is refused with the areas and their own district named."""
    arbat = DistrictFactory(name="Арбат")
    okrug_district = DistrictFactory(name="Хамовники")
    discussion = DiscussionFactory(scope="areas", districts=[arbat], okrugs=[okrug_district.okrug])
    in_district = resident(home_building=BuildingFactory(district=arbat))
    in_okrug = resident(home_building=BuildingFactory(district=okrug_district))
    outside = resident(home_building=BuildingFactory(district=DistrictFactory(name="Марьино")))

    assert post(in_district, discussion).author_district == arbat
    assert post(in_okrug, discussion).author_district == okrug_district
    error = refused("out_of_scope", post, user=outside, discussion=discussion)
    assert error.status == 403
    assert "Арбат" in str(error) and "Марьино" in str(error) and "read" in str(error)
    assert Post.objects.count() == 2


def test_a_citywide_discussion_takes_every_resident_with_a_complete_profile():
    discussion = DiscussionFactory(scope="city")
    assert post(resident(), discussion).pk
    refused("profile_incomplete", post, user=resident(home_building=None), discussion=discussion)
    refused("profile_incomplete", post, user=resident(birth_year=None), discussion=discussion)
    refused("profile_incomplete", post, user=resident(gender=""), discussion=discussion)


def test_an_unconfirmed_email_address_cannot_post():
    user = UserFactory()
    EmailAddress.objects.filter(user=user).update(verified=False)
    user = resident_with_home(user_id=user.pk)
    error = refused("email_unverified", post, user=user, discussion=DiscussionFactory())
    assert "Confirm your email" in str(error)


def test_a_suspended_account_is_refused_with_the_suspension_error():
    user = resident(suspended_at=timezone.now(), suspension_reason="Накрутка")
    discussion = DiscussionFactory()
    proposal = ProposalFactory(discussion=discussion)
    for call, kwargs in (
        (post_create, {"discussion": discussion, "kind": "comment", "text": "Текст"}),
        (reply_create, {"to": proposal, "text": "Текст"}),
        (proposal_support, {"post": proposal}),
        (post_report, {"post": proposal, "reason": "spam"}),
    ):
        with pytest.raises(AccountSuspended):
            call(user=user, **kwargs)
    assert Post.objects.count() == 1 and not Support.objects.exists()


def test_posts_are_taken_only_while_the_discussion_is_open():
    """Time decides: before opens_at and from closes_at on, posting is refused (409)."""
    user = resident()
    discussion = DiscussionFactory()
    with time_machine.travel(discussion.opens_at - timedelta(seconds=1)):
        assert refused("discussion_not_open", post, user=user, discussion=discussion).status == 409
    with time_machine.travel(discussion.closes_at):
        refused("discussion_closed", post, user=user, discussion=discussion)
    with time_machine.travel(discussion.closes_at - timedelta(seconds=1)):
        assert post(user, discussion).pk


def test_text_must_be_there_and_not_too_long_and_the_kind_known():
    user, discussion = resident(), DiscussionFactory()
    refused("invalid", post, user=user, discussion=discussion, text="   ")
    error = refused("invalid", post, user=user, discussion=discussion, text="а" * 4001)
    assert "4000" in str(error) and "4001" in str(error)
    refused("invalid", post, user=user, discussion=discussion, kind="rant")
    assert post(user, discussion, text="  Текст с пробелами  ").text == "Текст с пробелами"


# --- the word list ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, word",
    [
        ("Это просто пиздец какой-то", "пиздец"),
        ("Проект — полная Хуйня!", "Хуйня"),
        ("ну бля", "бля"),
        ("Опять нас наебали с парком", "наебали"),
        ("x\u0443\u0439 латиницей", "x\u0443\u0439"),  # a Latin x inside a Cyrillic word
        ("Ёбаный проект", "Ёбаный"),
        ("what the fuck", "fuck"),
    ],
)
def test_the_word_list_finds_obscenities_in_their_forms(text, word):
    assert blocked_word_in(text) == word


@pytest.mark.parametrize(
    "text",
    [
        "Застрахуйте детскую площадку от вандалов",
        "Я колебался, но поддерживаю проект",
        "Бляха от ремня нашлась у фонтана",
        "Мандарины в киоске у метро",
        "Сукно для лавочек не годится",
    ],
)
def test_ordinary_words_that_look_alike_pass(text):
    assert blocked_word_in(text) is None


def test_a_post_with_a_listed_word_is_refused_naming_the_word():
    user, discussion = resident(), DiscussionFactory()
    error = refused(
        "blocked_word", post, user=user, discussion=discussion, text="Это блядство, а не парк"
    )
    assert error.status == 400
    assert "“блядство”" in str(error) and "rephrase" in str(error)
    proposal = ProposalFactory(discussion=discussion)
    refused("blocked_word", reply_create, user=user, to=proposal, text="Сука, опять")
    assert Post.objects.count() == 1


# --- replies: one level ----------------------------------------------------------------------


def test_a_reply_to_a_reply_joins_the_thread_of_the_top_level_post():
    """Decided: replies go one level deep, and a reply to a reply is attached to the
    top-level post of its thread rather than refused."""
    user = resident()
    top = PostFactory()
    first = reply_create(user=user, to=post_for_action(post_id=top.pk), text="Согласен")
    second = reply_create(user=user, to=post_for_action(post_id=first.pk), text="И я")
    assert first.parent == top and second.parent == top
    assert first.kind == second.kind == PostKind.COMMENT
    assert list(top.replies.order_by("pk")) == [first, second]


def test_the_database_refuses_a_nested_reply_or_one_in_another_discussion():
    reply = ReplyFactory()
    other = PostFactory()
    for parent, discussion in ((reply, reply.discussion), (other, reply.discussion)):
        with pytest.raises(IntegrityError), transaction.atomic():
            Post.objects.create(
                discussion=discussion, parent=parent, kind="comment", text="Вложенный"
            )


def test_a_hidden_post_cannot_be_replied_to():
    top = PostFactory(hidden_at=timezone.now(), hidden_reason="Оскорбления")
    refused(
        "post_hidden",
        reply_create,
        user=resident(),
        to=post_for_action(post_id=top.pk),
        text="Ответ",
    )


def test_replies_follow_the_same_rules_as_posts():
    outside = resident()
    discussion = DiscussionFactory(scope="areas", districts=[DistrictFactory()])
    top = post_for_action(post_id=PostFactory(discussion=discussion).pk)
    refused("out_of_scope", reply_create, user=outside, to=top, text="Ответ")


# --- supports ----------------------------------------------------------------------------------


def test_a_resident_supports_a_proposal_once_and_never_their_own():
    user = resident()
    proposal = post_for_action(post_id=ProposalFactory().pk)
    assert proposal_support(user=user, post=proposal) == 1
    assert refused("already_supported", proposal_support, user=user, post=proposal).status == 409
    author = resident_with_home(user_id=proposal.author_id)
    refused("own_proposal", proposal_support, user=author, post=proposal)
    assert proposal_support(user=resident(), post=proposal) == 2
    assert Support.objects.filter(post=proposal).count() == 2


def test_only_visible_proposals_of_an_open_discussion_in_your_area_are_supported():
    user = resident()
    comment = post_for_action(post_id=PostFactory().pk)
    refused("not_a_proposal", proposal_support, user=user, post=comment)
    hidden = post_for_action(
        post_id=ProposalFactory(hidden_at=timezone.now(), hidden_reason="Спам").pk
    )
    refused("post_hidden", proposal_support, user=user, post=hidden)
    closed = DiscussionFactory(
        opens_at=timezone.now() - timedelta(days=9), closes_at=timezone.now() - timedelta(days=1)
    )
    late = post_for_action(post_id=ProposalFactory(discussion=closed).pk)
    refused("discussion_closed", proposal_support, user=user, post=late)
    elsewhere = DiscussionFactory(scope="areas", districts=[DistrictFactory()])
    away = post_for_action(post_id=ProposalFactory(discussion=elsewhere).pk)
    refused("out_of_scope", proposal_support, user=user, post=away)
    assert not Support.objects.exists()


# --- reports, hiding, official answers ---------------------------------------------------------


def test_a_resident_reports_a_post_once_but_not_their_own():
    reporter = UserFactory()
    target = PostFactory()
    post_report(user=reporter, post=target, reason="offensive")
    assert (
        refused("already_reported", post_report, user=reporter, post=target, reason="spam").status
        == 409
    )
    refused("own_post", post_report, user=target.author, post=target, reason="spam")
    refused("invalid", post_report, user=UserFactory(), post=target, reason="boring")
    assert Report.objects.get().reason == "offensive"


def test_hiding_needs_a_reason_and_tells_the_author_why():
    moderator = UserFactory(is_staff=True)
    target = PostFactory()
    refused("invalid", post_hide, post=target, reason=" ", by=moderator)
    post_hide(post=target, reason="Нецензурная брань", by=moderator)
    target.refresh_from_db()
    assert target.hidden_reason == "Нецензурная брань" and target.hidden_by == moderator
    notice = Notification.objects.get(user=target.author, kind="discussion_post_hidden")
    assert notice.params["reason"] == "Нецензурная брань"
    assert notice.url.endswith(f"#post-{target.pk}")
    refused("post_hidden", post_report, user=UserFactory(), post=target, reason="spam")
    post_unhide(post=target)
    target.refresh_from_db()
    assert target.hidden_at is None and target.hidden_reason == ""


def test_an_official_answer_is_for_proposals_and_notifies_the_author_once():
    official = UserFactory(is_staff=True)
    proposal = ProposalFactory()
    proposal_answer(post=proposal, text="Велодорожку включим в проект.", by=official)
    proposal_answer(post=proposal, text="Велодорожку включим в проект 2027 года.", by=official)
    proposal.refresh_from_db()
    assert proposal.answer == "Велодорожку включим в проект 2027 года."
    assert proposal.answered_by == official and proposal.answered_at is not None
    assert Notification.objects.filter(user=proposal.author, kind="discussion_answer").count() == 1
    proposal_answer(post=proposal, text="", by=official)
    proposal.refresh_from_db()
    assert proposal.answer == "" and proposal.answered_at is None
    refused("not_a_proposal", proposal_answer, post=PostFactory(), text="Ответ", by=official)


def test_the_database_keeps_answers_on_proposals_and_reasons_with_hidden_posts():
    comment = PostFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Post.objects.filter(pk=comment.pk).update(answer="Ответ", answered_at=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        Post.objects.filter(pk=comment.pk).update(hidden_at=timezone.now())


# --- personal data -----------------------------------------------------------------------------


def test_personal_data_lists_the_residents_posts_supports_and_reports():
    user = UserFactory()
    mine = ProposalFactory(author=user, text="Моё предложение")
    supported = ProposalFactory()
    Support.objects.create(post=supported, user=user)
    Report.objects.create(post=PostFactory(), user=user, reason="spam")
    PostFactory()  # someone else's
    data = personal_data(user=user)
    assert [p["text"] for p in data["discussion_posts"]] == ["Моё предложение"]
    assert data["discussion_posts"][0]["id"] == mine.pk
    assert [s["proposal"] for s in data["discussion_supports"]] == [supported.pk]
    assert [r["reason"] for r in data["discussion_reports"]] == ["spam"]


def test_erasing_removes_the_text_and_the_author_but_keeps_threads_and_counts():
    user = UserFactory()
    proposal = ProposalFactory(author=user, text="Мой адрес: Арбат, 10, кв. 5")
    reply = ReplyFactory(parent=proposal)
    Support.objects.create(post=ProposalFactory(), user=user)
    Report.objects.create(post=PostFactory(), user=user, reason="spam")
    Support.objects.create(post=proposal, user=UserFactory())
    personal_data_erase(user=user)
    proposal.refresh_from_db()
    assert proposal.text == "" and proposal.author is None and proposal.erased_at is not None
    assert reply.parent_id == proposal.pk and Post.objects.filter(pk=reply.pk).exists()
    assert Support.objects.filter(post=proposal).count() == 1
    assert Support.objects.filter(user__isnull=True).count() == 1
    assert Report.objects.get().user is None
    assert personal_data(user=user) == {
        "discussion_posts": [],
        "discussion_supports": [],
        "discussion_reports": [],
    }
