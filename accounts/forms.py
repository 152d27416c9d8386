from django import forms
from django.conf import settings
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from accounts.models import MIN_BIRTH_YEAR, Gender, User
from accounts.services import ProfileChanges
from civic.models import Building

apartment_validator = RegexValidator(
    r"^\d{1,5}[A-Za-zА-Яа-я]?$",
    _("Enter an apartment number such as 12 or 12А."),
)


class ProfileForm(forms.Form):
    address_query = forms.CharField(
        label=_("Find your building"),
        required=False,
        max_length=200,
        help_text=_("Street and house number, e.g. «Тверская 7»."),
    )
    home_building = forms.ModelChoiceField(
        label=_("Home building"),
        queryset=Building.objects.select_related("district__okrug"),
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("That building is not on the city map.")},
    )
    apartment = forms.CharField(
        label=_("Apartment"), required=False, max_length=10, validators=[apartment_validator]
    )
    birth_year = forms.IntegerField(label=_("Birth year"), required=False, min_value=MIN_BIRTH_YEAR)
    gender = forms.ChoiceField(
        label=_("Gender"),
        required=False,
        choices=[("", _("Not specified")), *Gender.choices],
    )
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    email_notifications = forms.BooleanField(
        label=_("Email me my notifications"),
        required=False,
        help_text=_("New surveys in my building, results of my polls, vouchers."),
    )

    @classmethod
    def initial_for(cls, user: User) -> dict:
        return {
            "home_building": user.home_building_id,
            "apartment": user.apartment,
            "birth_year": user.birth_year,
            "gender": user.gender,
            "language": user.language,
            "email_notifications": user.email_notifications,
        }

    def changes(self, *, user: User) -> ProfileChanges:
        """The validated profile; no building picked means "keep the current one"."""
        data = self.cleaned_data
        return ProfileChanges(
            home_building=data["home_building"] or user.home_building,
            apartment=data["apartment"],
            birth_year=data["birth_year"],
            gender=data["gender"],
            language=data["language"],
            email_notifications=data["email_notifications"],
        )


class ResidencyCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the letter"),
        max_length=40,
        help_text=_("The city posts a letter with a code to every apartment."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "characters"}
        ),
    )


class ResidencyClaimForm(forms.Form):
    note = forms.CharField(
        label=_("Note for the city staff"),
        required=False,
        max_length=500,
        help_text=_("Optional: anything that helps them check, such as when you moved in."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class AccountDeleteForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    code = forms.CharField(
        label=_("Code from your authenticator app, or a recovery code"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def __init__(self, *args, needs_code: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not needs_code:
            del self.fields["code"]
