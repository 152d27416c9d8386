"""Polls in the Django admin: a poll with its questions and options inline (nested_admin),
scope picked with autocomplete widgets, publish / unpublish / duplicate actions, a preview
link, and questions locked once residents have voted."""

import nested_admin
from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from civic.admin_base import AuditedAdmin, NoAddOrDeleteAdmin, ReadOnlyAdmin
from polls.models import (
    BuildingSurvey,
    ExportKind,
    ExportRecord,
    Option,
    Phase,
    Poll,
    Question,
    Scope,
    SurveyReport,
)
from polls.services import (
    NON_ANSWERS_ONLY_FOR_CHOICES,
    PollError,
    poll_duplicate,
    poll_has_votes,
    poll_is_locked,
    poll_publish,
    poll_unpublish,
    question_add_non_answers,
    survey_hide,
    survey_unhide,
    takes_non_answers,
)

EDITABLE_WHEN_LOCKED = {"title", "description", "image", "closes_at"}


class LockedOnceOpenMixin:
    """Inlines of a poll that has opened (or has votes) are read-only."""

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and not _locked(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not _locked(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not _locked(request, obj)


class OptionInline(LockedOnceOpenMixin, nested_admin.NestedTabularInline):
    model = Option
    extra = 0
    fields = ["position", "text", "is_other", "is_non_answer"]
    sortable_field_name = "position"


class QuestionForm(forms.ModelForm):
    add_non_answers = forms.BooleanField(
        label=_("Add “Затрудняюсь ответить” and “На усмотрение специалистов”"),
        required=False,
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("add_non_answers") and not takes_non_answers(kind=cleaned.get("kind")):
            self.add_error("add_non_answers", NON_ANSWERS_ONLY_FOR_CHOICES)
        return cleaned

    class Meta:
        model = Question
        fields = [
            "position",
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
        ]


class QuestionInline(LockedOnceOpenMixin, nested_admin.NestedStackedInline):
    model = Question
    form = QuestionForm
    extra = 0
    inlines = [OptionInline]
    sortable_field_name = "position"
    fieldsets = [
        (None, {"fields": ["position", "text", "help_text", "kind", "required"]}),
        (
            _("Kind settings"),
            {
                "fields": [
                    ("min_choices", "max_choices"),
                    ("scale_min", "scale_max"),
                    ("scale_min_label", "scale_max_label"),
                    "max_length",
                    "add_non_answers",
                ]
            },
        ),
    ]


def _locked(request, obj) -> bool:
    """Whether the questions and options of ``obj``'s poll are frozen; asked once a request."""
    poll_id = obj.poll_id if isinstance(obj, Question) else getattr(obj, "pk", None)
    if poll_id is None:
        return False
    cache = request.__dict__.setdefault("_polls_locked", {})
    if poll_id not in cache:
        cache[poll_id] = poll_is_locked(poll_id=poll_id)
    return cache[poll_id]


class PollForm(forms.ModelForm):
    class Meta:
        model = Poll
        fields = [
            "title",
            "description",
            "image",
            "scope",
            "okrugs",
            "districts",
            "min_age",
            "opens_at",
            "closes_at",
            "points",
            "results_visibility",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "scope" in self.fields:  # building surveys are created by residents, not here
            self.fields["scope"].choices = [
                (value, label) for value, label in Scope.choices if value != Scope.BUILDING
            ]

    def clean_closes_at(self):
        closes_at = self.cleaned_data["closes_at"]
        poll = self.instance
        if poll.pk and poll.phase() == Phase.CLOSED and closes_at != poll.closes_at:
            raise forms.ValidationError(_("The poll has closed: its schedule cannot change."))
        if poll.pk and poll_is_locked(poll_id=poll.pk) and closes_at < poll.closes_at:
            raise forms.ValidationError(
                _("The poll has opened: the closing time can only be extended.")
            )
        return closes_at


@admin.register(Poll)
class PollAdmin(AuditedAdmin, nested_admin.NestedModelAdmin):
    form = PollForm
    inlines = [QuestionInline]
    list_display = [
        "title",
        "status",
        "phase_display",
        "opens_at",
        "closes_at",
        "scope_display",
        "participants",
    ]
    list_filter = ["status", "scope", "results_visibility"]
    search_fields = ["title"]
    date_hierarchy = "opens_at"
    autocomplete_fields = ["okrugs", "districts"]
    actions = ["publish", "unpublish", "duplicate"]
    readonly_fields = ["preview_link", "status", "staff_links"]
    fieldsets = [
        (
            None,
            {"fields": ["title", "description", "image", "status", "preview_link", "staff_links"]},
        ),
        (_("Scope"), {"fields": ["scope", "okrugs", "districts", "min_age"]}),
        (
            _("Schedule and results"),
            {"fields": ["opens_at", "closes_at", "points", "results_visibility"]},
        ),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .exclude(scope=Scope.BUILDING)
            .annotate(participant_count=Count("participations"))
            .prefetch_related("okrugs", "districts")
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and _locked(request, obj):
            return [
                *(
                    field.name
                    for field in Poll._meta.get_fields()
                    if field.concrete and field.editable and field.name not in EDITABLE_WHEN_LOCKED
                ),
                "status",
                "preview_link",
                "staff_links",
            ]
        return super().get_readonly_fields(request, obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        poll = self.get_object(request, object_id)
        if poll is not None and _locked(request, poll):
            self.message_user(
                request,
                _(
                    "This poll has opened, so its questions, options and scope are locked. "
                    "You can still fix the title and description and extend the closing time."
                ),
                messages.WARNING,
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def has_delete_permission(self, request, obj=None):
        """Ballots are append-only (the database refuses to delete them): a poll with votes
        stays. Drafts and polls nobody voted in can be deleted."""
        if obj is not None and poll_has_votes(poll_id=obj.pk):
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # would try polls with votes too
        return actions

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if formset.model is Question:
            for question_form in formset.forms:
                if question_form.cleaned_data.get("add_non_answers") and question_form.instance.pk:
                    question_add_non_answers(question=question_form.instance)

    @admin.display(description=_("phase"))
    def phase_display(self, poll: Poll) -> str:
        return poll.phase(timezone.now()).label

    @admin.display(description=_("scope"))
    def scope_display(self, poll: Poll) -> str:
        if poll.scope == Scope.CITY:
            return str(Scope.CITY.label)
        return ", ".join(
            [o.name for o in poll.okrugs.all()] + [d.name for d in poll.districts.all()]
        )

    @admin.display(description=_("participants"), ordering="participant_count")
    def participants(self, poll: Poll) -> int:
        return poll.participant_count

    @admin.display(description=_("dashboard and exports"))
    def staff_links(self, poll: Poll) -> str:
        if not poll.pk:
            return "—"
        links = [(reverse("staff_dashboard", args=[poll.pk]), _("Dashboard"))] + [
            (reverse("staff_export", args=[poll.pk, kind]), f"{label} (CSV)")
            for kind, label in ExportKind.choices
        ]
        return format_html_join(" · ", '<a href="{}">{}</a>', links)

    @admin.display(description=_("preview"))
    def preview_link(self, poll: Poll) -> str:
        if not poll.pk:
            return "—"
        return format_html(
            '<a href="{}" target="_blank">{}</a>',
            reverse("poll_detail", args=[poll.pk]),
            _("See the poll as residents see it"),
        )

    @admin.action(description=_("Publish the selected polls"))
    def publish(self, request, queryset):
        self._apply(request, queryset, poll_publish, _("Published: %(title)s"))

    @admin.action(description=_("Unpublish (back to draft)"))
    def unpublish(self, request, queryset):
        self._apply(request, queryset, poll_unpublish, _("Back to draft: %(title)s"))

    @admin.action(description=_("Duplicate as a new draft"))
    def duplicate(self, request, queryset):
        for poll in queryset:
            copy = poll_duplicate(poll=poll, created_by=request.user)
            self.message_user(request, _("Created the draft “%(title)s”.") % {"title": copy.title})

    def _apply(self, request, queryset, operation, success_message):
        for poll in queryset:
            try:
                operation(poll=poll)
            except PollError as error:
                self.message_user(request, f"{poll.title}: {error}", messages.ERROR)
            else:
                self.message_user(request, success_message % {"title": poll.title})


@admin.register(ExportRecord)
class ExportRecordAdmin(ReadOnlyAdmin):
    """Who exported what, when: read-only."""

    list_display = ["created_at", "user", "poll", "kind", "file_name"]
    list_filter = ["kind"]
    list_select_related = ["user", "poll"]
    search_fields = ["user__email", "poll__title", "file_name"]


# --- moderation of building surveys ------------------------------------------------------------


class SurveyReportInline(admin.TabularInline):
    model = SurveyReport
    extra = 0
    fields = ["created_at", "user", "reason"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class SurveyModerationForm(forms.ModelForm):
    """Hide (with the reason its author reads) or show again."""

    hide = forms.BooleanField(label=_("Hidden from residents"), required=False)
    reason = forms.CharField(
        label=_("Reason for hiding"),
        required=False,
        max_length=500,
        help_text=_("Shown to the author on the survey page and in a notification."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    class Meta:
        model = BuildingSurvey
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.update(
            hide=self.instance.hidden_at is not None, reason=self.instance.hidden_reason
        )

    def clean(self):
        data = super().clean()
        if data.get("hide") and not data.get("reason", "").strip():
            self.add_error(
                "reason", _("Give the reason for hiding the survey: its author will read it.")
            )
        return data


@admin.register(BuildingSurvey)
class BuildingSurveyAdmin(NoAddOrDeleteAdmin):
    """Surveys residents created for their buildings: reports first, hide with a reason."""

    form = SurveyModerationForm
    inlines = [SurveyReportInline]
    list_display = [
        "title",
        "building",
        "created_by",
        "opens_at",
        "closes_at",
        "report_count",
        "hidden_at",
    ]
    list_filter = [("hidden_at", admin.EmptyFieldListFilter)]
    list_select_related = ["building", "created_by"]
    search_fields = ["title", "building__street", "created_by__email"]
    readonly_fields = [
        "title",
        "description",
        "building",
        "created_by",
        "opens_at",
        "closes_at",
        "open_ballot",
        "vote_unit",
        "quorum_percent",
        "hidden_at",
    ]
    fields = [*readonly_fields, "hide", "reason"]
    show_full_result_count = False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(scope=Scope.BUILDING)
            .annotate(report_count=Count("reports"))
            .order_by("-report_count", "-opens_at")
        )

    @admin.display(description=_("reports"), ordering="report_count")
    def report_count(self, survey) -> int:
        return survey.report_count

    def save_model(self, request, obj, form, change):
        hide, reason = form.cleaned_data["hide"], form.cleaned_data["reason"]
        if hide and (obj.hidden_at is None or reason.strip() != obj.hidden_reason):
            survey_hide(poll=obj, reason=reason)
        elif not hide and obj.hidden_at is not None:
            survey_unhide(poll=obj)
