from django import forms
from django.utils.translation import gettext_lazy as _

from rewards.models import Category


class CatalogueFilter(forms.Form):
    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=[("", _("All")), *Category.choices]
    )
    affordable = forms.BooleanField(label=_("Only what I can afford"), required=False)
