"""The shapes of the discussion page's forms; the services decide everything else."""

from django import forms
from django.utils.translation import gettext_lazy as _

from discussions.models import POST_MAX_LENGTH, PostKind, ReportReason


class PostForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What are you posting?"),
        choices=PostKind.choices,
        initial=PostKind.COMMENT,
        widget=forms.RadioSelect,
    )
    text = forms.CharField(
        label=_("Your comment or proposal"),
        max_length=POST_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
    )


class ReplyForm(forms.Form):
    text = forms.CharField(
        label=_("Your reply"), max_length=POST_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3})
    )


class ReportForm(forms.Form):
    reason = forms.ChoiceField(label=_("What is wrong"), choices=ReportReason.choices)
