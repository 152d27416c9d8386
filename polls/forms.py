"""Reading the poll page's form into ``AnswerInput``s; the rules themselves are in validation.

Field names: ``q<id>`` (single, multiple, scale, text), ``q<id>_other`` (the "Other" text),
``q<id>_rank_<option id>`` (the place of an option in a ranking) and
``q<id>_row_<option id>`` (the rating of a matrix row).
"""

from django.http import QueryDict
from django.utils.translation import gettext as _

from polls.models import Question, QuestionKind
from polls.validation import AnswerInput, InvalidBallot, ranking_places


def answers_from_post(*, questions: list[Question], data: QueryDict) -> list[AnswerInput]:
    errors: dict[int | None, list[str]] = {}
    answers = []
    for question in questions:
        try:
            answers.append(_answer(question, data))
        except ValueError:
            errors[question.pk] = [_("The answer is not valid: choose from the options shown.")]
    if errors:
        raise InvalidBallot(errors)
    return answers


def _integers(values: list[str]) -> tuple[int, ...]:
    return tuple(int(value) for value in values if value != "")


def _answer(question: Question, data: QueryDict) -> AnswerInput:
    name = f"q{question.pk}"
    if question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        return AnswerInput(
            question=question.pk,
            options=_integers(data.getlist(name)),
            other_text=data.get(f"{name}_other", ""),
        )
    if question.kind == QuestionKind.SCALE:
        value = data.get(name, "")
        return AnswerInput(question=question.pk, value=int(value) if value else None)
    if question.kind == QuestionKind.TEXT:
        return AnswerInput(question=question.pk, text=data.get(name, ""))
    if question.kind == QuestionKind.RANKING:
        return AnswerInput(question=question.pk, options=_ranked(question, data, name))
    return AnswerInput(question=question.pk, rows=_rated_rows(question, data, name))


def _ranked(question: Question, data: QueryDict, name: str) -> tuple[int, ...]:
    """Option ids in order of the places chosen for them; two options in one place is invalid."""
    places = {}
    allowed = range(1, ranking_places(question) + 1)
    for option in question.options.all():
        place = data.get(f"{name}_rank_{option.pk}", "")
        if place:
            places[option.pk] = int(place)
    if len(set(places.values())) != len(places) or not set(places.values()) <= set(allowed):
        raise ValueError("places must be distinct, from 1 to the number of places")
    return tuple(sorted(places, key=places.get))


def _rated_rows(question: Question, data: QueryDict, name: str) -> dict[int, int]:
    rows = {}
    for option in question.options.all():
        value = data.get(f"{name}_row_{option.pk}", "")
        if value:
            rows[option.pk] = int(value)
    return rows
