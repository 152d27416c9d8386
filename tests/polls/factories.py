"""Factories for polls: an open citywide poll by default."""

from datetime import timedelta

import factory
from django.utils import timezone

from polls.models import (
    Decision,
    DecisionStatus,
    Option,
    Poll,
    PollStatus,
    Question,
    QuestionKind,
    Scope,
)
from polls.services import DecisionStep, decision_record


class PollFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Poll
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Опрос {n}")
    description = "Как нам сделать город лучше?\n\nПодробности: https://example.org/poll"
    status = PollStatus.PUBLISHED
    scope = Scope.CITY
    opens_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    closes_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))
    points = 20

    @factory.post_generation
    def okrugs(poll, create, extracted, **kwargs):
        if create and extracted:
            poll.okrugs.set(extracted)

    @factory.post_generation
    def districts(poll, create, extracted, **kwargs):
        if create and extracted:
            poll.districts.set(extracted)


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Question

    poll = factory.SubFactory(PollFactory)
    text = factory.Sequence(lambda n: f"Вопрос {n}?")
    kind = QuestionKind.SINGLE
    position = factory.Sequence(int)


class OptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Option

    question = factory.SubFactory(QuestionFactory)
    text = factory.Sequence(lambda n: f"Вариант {n}")
    position = factory.Sequence(int)


def question_with_options(poll: Poll, kind: str = QuestionKind.SINGLE, options: int = 3, **fields):
    question = QuestionFactory(poll=poll, kind=kind, **fields)
    OptionFactory.create_batch(options, question=question)
    return question


def three_question_poll(**fields) -> Poll:
    """Single choice (with "Other"), multiple choice (1–2 of 4) and a 1–5 scale."""
    poll = PollFactory(**fields)
    single = question_with_options(poll, QuestionKind.SINGLE, options=2)
    OptionFactory(question=single, text="Другое", is_other=True)
    question_with_options(poll, QuestionKind.MULTIPLE, options=4, min_choices=1, max_choices=2)
    QuestionFactory(poll=poll, kind=QuestionKind.SCALE, scale_min=1, scale_max=5)
    return poll


def closed_poll(**fields) -> Poll:
    """A city poll (three questions) that ran from ten days ago until yesterday."""
    now = timezone.now()
    return three_question_poll(
        opens_at=now - timedelta(days=10), closes_at=now - timedelta(days=1), **fields
    )


def decision_recorded(
    poll: Poll,
    *,
    status: str = DecisionStatus.PLANNED,
    note: str = "",
    on=None,
    text: str = "Открыть библиотеки до 22:00",
    by=None,
) -> Decision:
    """A decision recorded by the service, as a city admin does."""
    step = DecisionStep(status=status, on=on or timezone.localdate(), note=note)
    return decision_record(
        poll=poll, text=text, responsible_body="Департамент культуры", step=step, recorded_by=by
    )
