from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from civic.models import Okrug
from novelties.models import COMMENT_MAX_LENGTH, Category

STAR_LABELS = {
    1: _("1 star: very bad"),
    2: _("2 stars: bad"),
    3: _("3 stars: so-so"),
    4: _("4 stars: good"),
    5: _("5 stars: excellent"),
}


class RatingForm(forms.Form):
    """The shape of a rating; ``services.novelty_rate`` decides whether it may be given."""

    stars = forms.TypedChoiceField(
        label=_("How do you rate it?"),
        choices=list(STAR_LABELS.items()),
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose from 1 to 5 stars."),
            "invalid_choice": _("Choose from 1 to 5 stars."),
        },
    )
    comment = forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        help_text=_("Everyone can read it; your name is not shown."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )


RANKING_YEARS = range(2000, 2101)


def validate_ranking_month(month: date) -> None:
    """Rankings exist for the years of ``RANKING_YEARS``; far-off years are bad input."""
    if month.year not in RANKING_YEARS:
        raise ValidationError(
            _("Choose a month of the years %(first)s to %(last)s."),
            code="year_out_of_range",
            params={"first": RANKING_YEARS[0], "last": RANKING_YEARS[-1]},
        )


class RankingFilter(forms.Form):
    month = forms.DateField(
        label=_("Month"),
        required=False,
        input_formats=["%Y-%m"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
        error_messages={"invalid": _("Give the month as YYYY-MM, for example 2026-03.")},
        validators=[validate_ranking_month],
    )
    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=[("", _("All")), *Category.choices]
    )
    okrug = forms.ModelChoiceField(
        label=_("Okrug"), required=False, queryset=Okrug.objects.all(), empty_label=_("All")
    )
