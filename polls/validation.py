"""Checking a submitted ballot against the poll's questions, before anything is written.

The same rules back the poll page and the API: both hand the answers over as
``AnswerInput`` and get back either the rows to store or an ``InvalidBallot`` whose
errors are keyed by question id (``None`` for errors about the ballot as a whole).
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from polls.models import Answer, Option, Question, QuestionKind

OTHER_TEXT_MAX_LENGTH = 200


@dataclass(frozen=True)
class AnswerInput:
    """One question's answer as submitted.

    ``options``: chosen option ids (single, multiple) or ids in order of preference (ranking);
    ``value``: the rating (scale); ``rows``: matrix row (option) id → rating;
    ``text``: free text; ``other_text``: the text of an "Other, please specify" option.
    """

    question: int
    options: tuple[int, ...] = ()
    value: int | None = None
    rows: dict[int, int] = field(default_factory=dict)
    text: str = ""
    other_text: str = ""

    @property
    def is_empty(self) -> bool:
        return not (
            self.options
            or self.value is not None
            or self.rows
            or self.text.strip()
            or self.other_text.strip()
        )


class InvalidBallot(Exception):
    def __init__(self, errors: dict[int | None, list[str]]):
        self.errors = errors
        super().__init__("; ".join(message for messages in errors.values() for message in messages))


class _QuestionError(Exception):
    pass


def ballot_answers(*, questions: list[Question], answers: list[AnswerInput]) -> list[Answer]:
    """The answer rows to store (without ballot) or ``InvalidBallot`` listing every problem.

    ``questions`` must have their options prefetched.
    """
    errors: dict[int | None, list[str]] = defaultdict(list)
    by_question = _answers_by_question(questions, answers, errors)
    rows: list[Answer] = []
    for question in questions:
        answer = by_question.get(question.pk)
        try:
            rows.extend(_question_answers(question, answer))
        except _QuestionError as error:
            errors[question.pk].append(str(error))
    if errors:
        raise InvalidBallot(dict(errors))
    return rows


def _answers_by_question(
    questions: list[Question], answers: list[AnswerInput], errors: dict
) -> dict[int, AnswerInput]:
    known = {question.pk for question in questions}
    by_question: dict[int, AnswerInput] = {}
    for answer in answers:
        if answer.question not in known:
            errors[None].append(_("Question %(id)s is not in this poll.") % {"id": answer.question})
        elif answer.question in by_question:
            errors[None].append(
                _("Question %(id)s is answered more than once.") % {"id": answer.question}
            )
        else:
            by_question[answer.question] = answer
    return by_question


def _question_answers(question: Question, answer: AnswerInput | None) -> list[Answer]:
    if answer is None or answer.is_empty:
        if question.required:
            raise _QuestionError(_("This question needs an answer."))
        return []
    _refuse_fields_of_other_kinds(question, answer)
    if "\x00" in answer.text or "\x00" in answer.other_text:
        raise _QuestionError(_("The text contains a character that is not allowed."))
    check = {
        QuestionKind.SINGLE: _single,
        QuestionKind.MULTIPLE: _multiple,
        QuestionKind.SCALE: _scale,
        QuestionKind.RANKING: _ranking,
        QuestionKind.MATRIX: _matrix,
        QuestionKind.TEXT: _text,
    }[question.kind]
    return check(question, answer)


def _refuse_fields_of_other_kinds(question: Question, answer: AnswerInput) -> None:
    used = {
        "options": bool(answer.options),
        "value": answer.value is not None,
        "rows": bool(answer.rows),
        "text": bool(answer.text),
        "other_text": bool(answer.other_text),
    }
    allowed = {
        QuestionKind.SINGLE: {"options", "other_text"},
        QuestionKind.MULTIPLE: {"options", "other_text"},
        QuestionKind.RANKING: {"options"},
        QuestionKind.SCALE: {"value"},
        QuestionKind.MATRIX: {"rows"},
        QuestionKind.TEXT: {"text"},
    }[question.kind]
    unexpected = sorted(name for name, present in used.items() if present and name not in allowed)
    if unexpected:
        raise _QuestionError(
            _("This question does not take: %(fields)s.") % {"fields": ", ".join(unexpected)}
        )


def _chosen_options(question: Question, option_ids: tuple[int, ...]) -> list[Option]:
    options = {option.pk: option for option in question.options.all()}
    if len(set(option_ids)) != len(option_ids):
        raise _QuestionError(_("An option is chosen more than once."))
    foreign = [option_id for option_id in option_ids if option_id not in options]
    if foreign:
        raise _QuestionError(
            _("Option %(id)s is not an option of this question.") % {"id": foreign[0]}
        )
    return [options[option_id] for option_id in option_ids]


def _other_text(chosen: list[Option], answer: AnswerInput) -> str:
    other_text = answer.other_text.strip()
    chose_other = any(option.is_other for option in chosen)
    if chose_other and not other_text:
        raise _QuestionError(_("Please specify your “other” answer."))
    if other_text and not chose_other:
        raise _QuestionError(_("A specified text needs the “Other” option chosen."))
    if len(other_text) > OTHER_TEXT_MAX_LENGTH:
        raise _QuestionError(
            _("The “other” answer is too long: at most %(max)d characters.")
            % {"max": OTHER_TEXT_MAX_LENGTH}
        )
    return other_text


def _choice_rows(question: Question, chosen: list[Option], answer: AnswerInput) -> list[Answer]:
    other_text = _other_text(chosen, answer)
    return [
        Answer(question=question, option=option, text=other_text if option.is_other else "")
        for option in chosen
    ]


def _single(question: Question, answer: AnswerInput) -> list[Answer]:
    if len(answer.options) != 1:
        raise _QuestionError(_("Choose exactly one option."))
    return _choice_rows(question, _chosen_options(question, answer.options), answer)


def _multiple(question: Question, answer: AnswerInput) -> list[Answer]:
    chosen = _chosen_options(question, answer.options)
    if any(option.is_non_answer for option in chosen) and len(chosen) > 1:
        raise _QuestionError(
            _("“%(option)s” cannot be combined with other options.")
            % {"option": next(option.text for option in chosen if option.is_non_answer)}
        )
    if not any(option.is_non_answer for option in chosen):
        _check_choice_count(question, len(chosen))
    return _choice_rows(question, chosen, answer)


def _check_choice_count(question: Question, count: int) -> None:
    low = question.min_choices or 1
    high = question.max_choices or len(question.options.all())
    if count < low:
        raise _QuestionError(
            ngettext("Choose at least %(n)d option.", "Choose at least %(n)d options.", low)
            % {"n": low}
        )
    if count > high:
        raise _QuestionError(
            ngettext("Choose at most %(n)d option.", "Choose at most %(n)d options.", high)
            % {"n": high}
        )


def _check_on_scale(question: Question, value: int) -> None:
    if not question.scale_min <= value <= question.scale_max:
        raise _QuestionError(
            _("Choose a value from %(low)d to %(high)d.")
            % {"low": question.scale_min, "high": question.scale_max}
        )


def _scale(question: Question, answer: AnswerInput) -> list[Answer]:
    _check_on_scale(question, answer.value)
    return [Answer(question=question, value=answer.value)]


def ranking_places(question: Question) -> int:
    """How many places a ranking has: its top K, or every option."""
    options = [option for option in question.options.all() if not option.is_non_answer]
    return min(question.max_choices or len(options), len(options))


def _ranking(question: Question, answer: AnswerInput) -> list[Answer]:
    chosen = _chosen_options(question, answer.options)
    places = ranking_places(question)
    if len(chosen) != places or any(option.is_non_answer for option in chosen):
        raise _QuestionError(
            ngettext("Rank exactly %(n)d option.", "Rank exactly %(n)d options.", places)
            % {"n": places}
        )
    return [
        Answer(question=question, option=option, value=place)
        for place, option in enumerate(chosen, start=1)
    ]


def _matrix(question: Question, answer: AnswerInput) -> list[Answer]:
    rows = _chosen_options(question, tuple(answer.rows))
    if len(rows) != len(question.options.all()):
        raise _QuestionError(_("Rate every row."))
    for value in answer.rows.values():
        _check_on_scale(question, value)
    return [Answer(question=question, option=row, value=answer.rows[row.pk]) for row in rows]


def _text(question: Question, answer: AnswerInput) -> list[Answer]:
    text = answer.text.strip()
    if len(text) > question.max_length:
        raise _QuestionError(
            _("The answer is too long: at most %(max)d characters, you wrote %(n)d.")
            % {"max": question.max_length, "n": len(text)}
        )
    return [Answer(question=question, text=text)]
