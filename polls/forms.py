"""Reading the poll page's form into ``AnswerInput``s (the rules themselves are in
validation), and the form a resident builds a building survey with.

Field names: ``q<id>`` (single, multiple, scale, text), ``q<id>_other`` (the "Other" text),
``q<id>_rank_<option id>`` (the place of an option in a ranking) and
``q<id>_row_<option id>`` (the rating of a matrix row).
"""

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from civic.models import Okrug
from polls.models import (
    KINDS_WITH_OPTIONS,
    DecisionStatus,
    Question,
    QuestionKind,
    Scope,
    VoteUnit,
)
from polls.selectors import DecisionFilters
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


# --- a resident's building survey ----------------------------------------------------------


class SurveyForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    description = forms.CharField(
        label=gettext_lazy("Description"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    opens_at = forms.DateTimeField(
        label=gettext_lazy("Opens"),
        required=False,
        help_text=gettext_lazy("Leave empty to open now."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    closes_at = forms.DateTimeField(
        label=gettext_lazy("Closes"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    vote_unit = forms.ChoiceField(
        label=gettext_lazy("Who votes"),
        choices=VoteUnit.choices,
        initial=VoteUnit.RESIDENT,
        widget=forms.RadioSelect,
    )
    open_ballot = forms.TypedChoiceField(
        label=gettext_lazy("Ballot"),
        choices=[
            (
                "false",
                gettext_lazy("Secret: nobody sees how a neighbour voted; results after closing"),
            ),
            (
                "true",
                gettext_lazy("Open: neighbours see who voted for what; results as votes come in"),
            ),
        ],
        coerce=lambda value: value == "true",
        initial="false",
        widget=forms.RadioSelect,
    )
    quorum_percent = forms.IntegerField(
        label=gettext_lazy("Quorum, percent of apartments"),
        required=False,
        min_value=1,
        max_value=100,
        help_text=gettext_lazy(
            "Optional: the results will say whether this share of apartments voted."
        ),
    )


MAX_OPTIONS = 50


class QuestionForm(forms.Form):
    """One question of a survey; options one per line (for a matrix, its rows)."""

    text = forms.CharField(label=gettext_lazy("Question"), max_length=500)
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"), choices=QuestionKind.choices, initial=QuestionKind.SINGLE
    )
    required = forms.BooleanField(
        label=gettext_lazy("An answer is required"), required=False, initial=True
    )
    options = forms.CharField(
        label=gettext_lazy("Options"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("One per line. For a matrix, the rows to rate."),
    )
    other = forms.BooleanField(label=gettext_lazy("Add “Other, please specify”"), required=False)
    scale_min = forms.IntegerField(
        label=gettext_lazy("Scale from"), initial=1, min_value=-100, max_value=100
    )
    scale_max = forms.IntegerField(
        label=gettext_lazy("Scale to"), initial=5, min_value=-100, max_value=100
    )

    def clean(self):
        data = super().clean()
        if {"scale_min", "scale_max"} <= set(data) and data["scale_max"] <= data["scale_min"]:
            self.add_error("scale_max", _("The scale must end above where it starts."))
        lines = [line.strip() for line in data.get("options", "").splitlines() if line.strip()]
        if len(lines) > MAX_OPTIONS:
            self.add_error("options", _("At most %(count)d options.") % {"count": MAX_OPTIONS})
        if data.get("kind") in KINDS_WITH_OPTIONS and len(lines) + data.get("other", False) < 2:
            self.add_error("options", _("Give at least two options, one per line."))
        data["option_lines"] = lines
        return data

    def as_question(self) -> dict:
        """The question in ``poll_create``'s shape."""
        data = self.cleaned_data
        options = []
        if data["kind"] in KINDS_WITH_OPTIONS:
            options = [{"text": line[:300]} for line in data["option_lines"]]
            if data["other"] and data["kind"] in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
                options.append({"text": str(_("Other")), "is_other": True})
        return {
            "text": data["text"],
            "kind": data["kind"],
            "required": data["required"],
            "scale_min": data["scale_min"],
            "scale_max": data["scale_max"],
            "options": options,
        }


QuestionFormSet = forms.formset_factory(
    QuestionForm, extra=2, min_num=1, validate_min=True, max_num=30, validate_max=True
)


def survey_data(*, survey: SurveyForm, questions) -> dict:
    """The valid survey form and question formset in ``survey_create``'s shape."""
    return {
        **survey.cleaned_data,
        "questions": [form.as_question() for form in questions if form.has_changed()],
    }


class ReportForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("What is wrong with this survey?"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class DecisionFilterForm(forms.Form):
    """The filters of the Decisions page, and of the API's list (as query parameters)."""

    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[("", gettext_lazy("All")), *DecisionStatus.choices],
    )
    okrug = forms.ModelChoiceField(
        label=gettext_lazy("Okrug"),
        required=False,
        queryset=Okrug.objects.order_by("name"),
        empty_label=gettext_lazy("All okrugs"),
    )
    scope = forms.ChoiceField(
        label=gettext_lazy("Poll for"),
        required=False,
        choices=[
            ("", gettext_lazy("All")),
            (Scope.CITY, gettext_lazy("The whole city")),
            (Scope.AREAS, gettext_lazy("Okrugs and districts")),
        ],
    )
    poll = forms.IntegerField(
        required=False, min_value=1, max_value=2**31 - 1, widget=forms.HiddenInput
    )

    def filters(self) -> DecisionFilters:
        data = self.cleaned_data
        return DecisionFilters(
            status=data.get("status", ""),
            okrug=data.get("okrug"),
            scope=data.get("scope", ""),
            poll_id=data.get("poll"),
        )
