"""Factories for public discussions: an open citywide discussion by default."""

from datetime import timedelta

import factory
from django.utils import timezone

from discussions.models import Discussion, Post, PostKind, Report, ReportReason, Support
from tests.accounts.factories import UserFactory


class DiscussionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Discussion
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Проект благоустройства {n}")
    description = "Реконструкция набережной.\n\nДокументы проекта: https://example.org/project"
    scope = "city"
    opens_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    closes_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=14))

    @factory.post_generation
    def okrugs(discussion, create, extracted, **kwargs):
        if create and extracted:
            discussion.okrugs.set(extracted)

    @factory.post_generation
    def districts(discussion, create, extracted, **kwargs):
        if create and extracted:
            discussion.districts.set(extracted)


class PostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Post

    discussion = factory.SubFactory(DiscussionFactory)
    kind = PostKind.COMMENT
    author = factory.SubFactory(UserFactory)
    author_district = factory.LazyAttribute(lambda post: post.author.home_building.district)
    text = factory.Sequence(lambda n: f"Комментарий номер {n}: хорошо бы добавить скамейки.")


class ProposalFactory(PostFactory):
    kind = PostKind.PROPOSAL
    text = factory.Sequence(lambda n: f"Предложение {n}: сделать велодорожку вдоль реки.")


class ReplyFactory(PostFactory):
    parent = factory.SubFactory(PostFactory)
    discussion = factory.SelfAttribute("parent.discussion")


class SupportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Support

    post = factory.SubFactory(ProposalFactory)
    user = factory.SubFactory(UserFactory)


class ReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Report

    post = factory.SubFactory(PostFactory)
    user = factory.SubFactory(UserFactory)
    reason = ReportReason.OFFENSIVE
