"""API shapes for polls: input serializers check shape only; services decide."""

import re

from django.utils.translation import gettext as _
from rest_framework import serializers

from civic.api import ApiError
from civic.models import District, Okrug
from polls.models import (
    DecisionStatus,
    Option,
    Phase,
    Poll,
    Question,
    QuestionKind,
    ResultsVisibility,
    Scope,
    VoteUnit,
)
from polls.validation import AnswerInput

MAX_ID = 2**31 - 1
MAX_TEXT = 10_000
MIN_SMALL, MAX_SMALL = -32768, 32767  # ratings and scale values (SmallIntegerField)
MAX_CHOSEN = 200
MAX_ANSWERS = 500

# The lists' ``state`` query parameter (polls, discussions) and the phase each asks for.
STATES = {"open": Phase.OPEN, "upcoming": Phase.UPCOMING, "closed": Phase.CLOSED}


def state_phase(state: str | None) -> Phase | None:
    """The phase a list's ``state`` parameter asks for (None: every phase); 400 otherwise."""
    if state is None:
        return None
    if state not in STATES:
        raise ApiError(
            status_code=400, code="invalid", detail=_("state must be open, upcoming or closed.")
        )
    return STATES[state]


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know, naming them, instead of silently ignoring them."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


class AnswerInputSerializer(StrictSerializer):
    question = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    options = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        max_length=MAX_CHOSEN,
    )
    value = serializers.IntegerField(required=False, min_value=MIN_SMALL, max_value=MAX_SMALL)
    rows = serializers.DictField(
        child=serializers.IntegerField(min_value=MIN_SMALL, max_value=MAX_SMALL), required=False
    )
    text = serializers.CharField(required=False, allow_blank=True, max_length=MAX_TEXT)
    other_text = serializers.CharField(required=False, allow_blank=True, max_length=MAX_TEXT)

    def validate_rows(self, rows: dict) -> dict[int, int]:
        try:
            return {int(row): value for row, value in rows.items()}
        except ValueError as error:
            raise serializers.ValidationError("Row keys must be option ids.") from error


class VoteInputSerializer(StrictSerializer):
    answers = serializers.ListField(child=AnswerInputSerializer(), max_length=MAX_ANSWERS)

    def answer_inputs(self) -> list[AnswerInput]:
        return [
            AnswerInput(
                question=answer["question"],
                options=tuple(answer.get("options", ())),
                value=answer.get("value"),
                rows=answer.get("rows", {}),
                text=answer.get("text", ""),
                other_text=answer.get("other_text", ""),
            )
            for answer in self.validated_data["answers"]
        ]


def vote_answer_inputs(data) -> list[AnswerInput]:
    """The answers of a vote's body. A body of plain JSON values in range, as apps send it,
    is read directly; any other goes through ``VoteInputSerializer``, which coerces what it
    may and names every problem (400). The direct reading takes only what the serializer
    would take unchanged, so both give the same answers (tests/polls/test_vote_input.py);
    it spares every vote the serializer's field-by-field validation (bench/vote_profile.py).
    """
    answers = _plain_answer_inputs(data)
    if answers is None:
        body = VoteInputSerializer(data=data)
        body.is_valid(raise_exception=True)
        answers = body.answer_inputs()
    return answers


ANSWER_FIELDS = frozenset(AnswerInputSerializer._declared_fields)
# What the serializer's text fields refuse (ProhibitNull/SurrogateCharactersValidator).
REFUSED_CHARACTERS = re.compile("[\x00\ud800-\udfff]")
# Row keys the serializer would turn into the same option id (no sign, spaces or zeros).
ROW_KEY = re.compile(r"[1-9][0-9]{0,9}")


def _plain_answer_inputs(data) -> list[AnswerInput] | None:
    """The answers, if ``data`` is a body the serializer would pass unchanged; else None."""
    if type(data) is not dict or data.keys() != {"answers"}:
        return None
    answers = data["answers"]
    if type(answers) is not list or len(answers) > MAX_ANSWERS:
        return None
    inputs = []
    for answer in answers:
        if type(answer) is not dict or not answer.keys() <= ANSWER_FIELDS:
            return None
        question = answer.get("question")
        options = answer.get("options", [])
        value = answer.get("value")
        rows = answer.get("rows", {})
        text = _plain_text(answer.get("text", ""))
        other_text = _plain_text(answer.get("other_text", ""))
        if not (
            _is_int(question, 1, MAX_ID)
            and type(options) is list
            and len(options) <= MAX_CHOSEN
            and all(_is_int(option, 1, MAX_ID) for option in options)
            and ("value" not in answer or _is_int(value, MIN_SMALL, MAX_SMALL))
            and type(rows) is dict
            and all(
                ROW_KEY.fullmatch(key) and _is_int(rating, MIN_SMALL, MAX_SMALL)
                for key, rating in rows.items()
            )
            and text is not None
            and other_text is not None
        ):
            return None
        inputs.append(
            AnswerInput(
                question=question,
                options=tuple(options),
                value=value,
                rows={int(key): rating for key, rating in rows.items()},
                text=text,
                other_text=other_text,
            )
        )
    return inputs


def _is_int(value, low: int, high: int) -> bool:
    return type(value) is int and low <= value <= high


def _plain_text(value) -> str | None:
    """The text as the serializer keeps it (stripped), or None if it would refuse or
    change it otherwise."""
    if type(value) is not str or REFUSED_CHARACTERS.search(value):
        return None
    value = value.strip()
    return value if len(value) <= MAX_TEXT else None


class VoteOutputSerializer(serializers.Serializer):
    receipt = serializers.CharField()
    points_awarded = serializers.IntegerField()


class OptionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Option
        fields = ["id", "text", "is_other", "is_non_answer"]


class QuestionSerializer(serializers.ModelSerializer):
    options = OptionSerializer(many=True)

    class Meta:
        model = Question
        fields = [
            "id",
            "text",
            "help_text",
            "kind",
            "required",
            "min_choices",
            "max_choices",
            "scale_min",
            "scale_max",
            "scale_min_label",
            "scale_max_label",
            "max_length",
            "options",
        ]


class PollCardSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="poll.pk")
    title = serializers.CharField(source="poll.title")
    scope = serializers.CharField(source="poll.scope")
    opens_at = serializers.DateTimeField(source="poll.opens_at")
    closes_at = serializers.DateTimeField(source="poll.closes_at")
    points = serializers.IntegerField(source="poll.points")
    can_vote = serializers.BooleanField()
    has_voted = serializers.BooleanField()
    reason = serializers.CharField(source="refusal.code", allow_null=True, default=None)
    reason_detail = serializers.CharField(source="refusal.message", allow_null=True, default=None)


class PollDetailSerializer(serializers.ModelSerializer):
    questions = QuestionSerializer(many=True)

    class Meta:
        model = Poll
        fields = [
            "id",
            "title",
            "description",
            "scope",
            "min_age",
            "opens_at",
            "closes_at",
            "points",
            "results_visibility",
            "open_ballot",
            "vote_unit",
            "quorum_percent",
            "questions",
        ]


class ShareSerializer(serializers.Serializer):
    label = serializers.CharField()
    option = serializers.IntegerField(source="option.pk", allow_null=True, default=None)
    count = serializers.IntegerField()
    percent = serializers.FloatField()


class RankedSerializer(serializers.Serializer):
    option = serializers.IntegerField(source="option.pk")
    borda = serializers.IntegerField()
    first_preferences = serializers.IntegerField()
    first_percent = serializers.FloatField()


class RowSerializer(serializers.Serializer):
    option = serializers.IntegerField(source="option.pk")
    average = serializers.FloatField(allow_null=True)
    distribution = ShareSerializer(many=True)


class QuestionResultSerializer(serializers.Serializer):
    question = serializers.IntegerField(source="question.pk")
    kind = serializers.CharField(source="question.kind")
    answered = serializers.IntegerField()
    shares = ShareSerializer(many=True)
    average = serializers.FloatField(allow_null=True)
    ranking = RankedSerializer(many=True)
    rows = RowSerializer(many=True)


class TurnoutSerializer(serializers.Serializer):
    voters = serializers.IntegerField()
    apartments_voted = serializers.IntegerField()
    apartments = serializers.IntegerField()
    verified_residents = serializers.IntegerField()
    quorum_percent = serializers.IntegerField(allow_null=True)
    quorum_apartments = serializers.IntegerField(allow_null=True)
    quorum_reached = serializers.BooleanField(allow_null=True)


class DecisionStepSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=DecisionStatus.choices)
    status_label = serializers.CharField(source="get_status_display")
    date = serializers.DateField()
    note = serializers.CharField(help_text="For a decline, its reason.")


class DecisionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    poll = serializers.IntegerField(source="poll_id")
    poll_title = serializers.CharField(source="poll.title")
    text = serializers.CharField()
    responsible_body = serializers.CharField()
    decided_on = serializers.DateField()
    status = serializers.ChoiceField(
        choices=DecisionStatus.choices, help_text="The status of the latest step."
    )
    status_label = serializers.CharField(source="get_status_display")
    timeline = DecisionStepSerializer(
        source="updates",
        many=True,
        help_text="Every step, oldest first; the first one is the decision itself.",
    )


class ResultsSerializer(serializers.Serializer):
    participants = serializers.IntegerField()
    turnout = TurnoutSerializer(
        allow_null=True, default=None, help_text="Building surveys only: null for city polls."
    )
    final = serializers.BooleanField()
    computed_at = serializers.DateTimeField(allow_null=True)
    questions = QuestionResultSerializer(many=True)
    decisions = DecisionSerializer(
        many=True, help_text="City polls: what the city decided after the poll, with progress."
    )


class DecisionCountsSerializer(serializers.Serializer):
    decisions = serializers.IntegerField(help_text="Decisions taken, over every page.")
    polls = serializers.IntegerField(help_text="Polls they were taken after.")
    planned = serializers.IntegerField()
    in_progress = serializers.IntegerField()
    done = serializers.IntegerField(help_text="Implemented.")
    declined = serializers.IntegerField()


class DecisionPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    summary = DecisionCountsSerializer(help_text="Counts over everything the filters match.")
    results = DecisionSerializer(many=True)


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    errors = serializers.JSONField(required=False)


class OptionInputSerializer(StrictSerializer):
    text = serializers.CharField(max_length=300)
    is_other = serializers.BooleanField(default=False)
    is_non_answer = serializers.BooleanField(default=False)


class QuestionInputSerializer(StrictSerializer):
    text = serializers.CharField(max_length=500)
    kind = serializers.ChoiceField(choices=QuestionKind.choices)
    required = serializers.BooleanField(default=True)
    min_choices = serializers.IntegerField(
        min_value=1, max_value=500, required=False, allow_null=True
    )
    max_choices = serializers.IntegerField(
        min_value=1, max_value=500, required=False, allow_null=True
    )
    scale_min = serializers.IntegerField(min_value=-100, max_value=100, default=1)
    scale_max = serializers.IntegerField(min_value=-100, max_value=100, default=5)
    max_length = serializers.IntegerField(min_value=1, max_value=10_000, default=1000)
    options = OptionInputSerializer(many=True, required=False, max_length=200)

    def validate(self, data):
        if data["scale_max"] <= data["scale_min"]:
            raise serializers.ValidationError({"scale_max": "Must be greater than scale_min."})
        low, high = data.get("min_choices"), data.get("max_choices")
        if low and high and low > high:
            raise serializers.ValidationError({"min_choices": "Must not exceed max_choices."})
        return data


class PollInputSerializer(StrictSerializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(allow_blank=True, default="", max_length=20_000)
    opens_at = serializers.DateTimeField()
    closes_at = serializers.DateTimeField()
    scope = serializers.ChoiceField(choices=[Scope.CITY, Scope.AREAS])
    okrugs = serializers.PrimaryKeyRelatedField(
        queryset=Okrug.objects.all(), many=True, required=False
    )
    districts = serializers.PrimaryKeyRelatedField(
        queryset=District.objects.all(), many=True, required=False
    )
    min_age = serializers.IntegerField(min_value=1, max_value=120, required=False, allow_null=True)
    points = serializers.IntegerField(min_value=0, max_value=100_000, default=20)
    results_visibility = serializers.ChoiceField(choices=ResultsVisibility.choices)
    questions = QuestionInputSerializer(many=True, max_length=100)

    def validate(self, data):
        if data["closes_at"] <= data["opens_at"]:
            raise serializers.ValidationError({"closes_at": "Must be after opens_at."})
        return data


class SurveyInputSerializer(StrictSerializer):
    """A resident's building survey: the city poll's questions, the survey's own terms."""

    title = serializers.CharField(max_length=200)
    description = serializers.CharField(allow_blank=True, default="", max_length=5000)
    opens_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    closes_at = serializers.DateTimeField()
    vote_unit = serializers.ChoiceField(choices=VoteUnit.choices, default=VoteUnit.RESIDENT)
    open_ballot = serializers.BooleanField(default=False)
    quorum_percent = serializers.IntegerField(
        min_value=1, max_value=100, required=False, allow_null=True, default=None
    )
    questions = QuestionInputSerializer(many=True, min_length=1, max_length=30)


class ReportInputSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=500)
