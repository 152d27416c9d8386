"""Polls in the Django admin: a poll with its questions and options inline (nested_admin),
scope picked with autocomplete widgets, publish / unpublish / duplicate actions, a preview
link, and questions locked once residents have voted."""

import nested_admin
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminDateWidget
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from civic.admin_base import (
    AuditedAdmin,
    AuditedModelAdmin,
    HideWithReasonForm,
    NoAddOrDeleteAdmin,
    ReadOnlyAdmin,
)
from polls.models import (
    BallotFlagRun,
    BuildingSurvey,
    Decision,
    DecisionStatus,
    DecisionUpdate,
    ExportKind,
    ExportRecord,
    Option,
    Phase,
    Poll,
    PollStatus,
    Question,
    Scope,
    SurveyReport,
)
from polls.services import (
    NON_ANSWERS_ONLY_FOR_CHOICES,
    DecisionError,
    DecisionStep,
    PollError,
    decision_poll_problem,
    decision_record,
    decision_step_problem,
    decision_update,
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
    readonly_fields = ["preview_link", "status", "staff_links", "decisions_links"]
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
        (_("Decisions"), {"fields": ["decisions_links"]}),
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
                "decisions_links",
            ]
        return super().get_readonly_fields(request, obj)

    def get_search_results(self, request, queryset, search_term):
        """The decision form's poll picker offers only polls that have closed."""
        if request.GET.get("model_name") == "decision":
            queryset = queryset.filter(
                status=PollStatus.PUBLISHED, closes_at__lte=timezone.now()
            ).order_by("-closes_at", "-pk")
        return super().get_search_results(request, queryset, search_term)

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

    @admin.display(description=_("decisions taken"))
    def decisions_links(self, poll: Poll) -> str:
        if not poll.pk or poll.phase() != Phase.CLOSED:
            return _("Decisions are recorded once the poll has closed.")
        decisions = format_html_join(
            "",
            '<li><a href="{}">{}</a> — {}</li>',
            (
                (
                    reverse("admin:polls_decision_change", args=[decision.pk]),
                    Truncator(decision.text).chars(80),
                    decision.get_status_display(),
                )
                for decision in poll.decisions.order_by("pk")
            ),
        )
        return format_html(
            '<ul>{}</ul><a class="addlink" href="{}?poll={}">{}</a>',
            decisions,
            reverse("admin:polls_decision_add"),
            poll.pk,
            _("Record a decision"),
        )

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


class SurveyModerationForm(HideWithReasonForm):
    reason_help = _("Shown to the author on the survey page and in a notification.")
    missing_reason = _("Give the reason for hiding the survey: its author will read it.")

    class Meta:
        model = BuildingSurvey
        fields: list[str] = []


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


# --- decisions taken after polls ---------------------------------------------------------------


def _note_field() -> forms.CharField:
    """A step's note, in both decision forms."""
    return forms.CharField(
        label=_("note"),
        required=False,
        max_length=2000,
        help_text=_("Required for a decline: the reason residents will read."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def _step_error(form: forms.Form, error: DecisionError, fields: dict[str, str]) -> None:
    """Show a service's refusal next to the form field it concerns."""
    form.add_error(fields.get(error.field or ""), str(error))


class DecisionRecordForm(forms.ModelForm):
    """Record a decision: what, who, when, and its first status."""

    status = forms.ChoiceField(
        label=_("status"), choices=DecisionStatus.choices, initial=DecisionStatus.PLANNED
    )
    note = _note_field()

    class Meta:
        model = Decision
        fields = ["poll", "text", "responsible_body", "decided_on"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["decided_on"].initial = timezone.localdate

    def clean(self):
        data = super().clean()
        poll, decided_on = data.get("poll"), data.get("decided_on")
        if poll is None or decided_on is None:
            return data
        step = DecisionStep(status=data.get("status", ""), on=decided_on, note=data.get("note", ""))
        problem = decision_poll_problem(poll=poll) or decision_step_problem(
            poll=poll, step=step, previous=None
        )
        if problem:
            _step_error(self, problem, {"poll": "poll", "on": "decided_on", "note": "note"})
        return data

    def step(self) -> DecisionStep:
        data = self.cleaned_data
        return DecisionStep(status=data["status"], on=data["decided_on"], note=data["note"])


class DecisionProgressForm(forms.ModelForm):
    """Add a step to a decision's history: a new status, or a note on the current one."""

    new_status = forms.ChoiceField(label=_("status"), choices=DecisionStatus.choices)
    on = forms.DateField(label=_("date"), initial=timezone.localdate, widget=AdminDateWidget)
    note = _note_field()

    class Meta:
        model = Decision
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_status"].initial = self.instance.status

    def clean(self):
        data = super().clean()
        if not self.has_changed() or data.get("on") is None:
            return data
        step = DecisionStep(status=data.get("new_status", ""), on=data["on"], note=data["note"])
        previous = DecisionUpdate.objects.filter(decision=self.instance).order_by("-pk").first()
        problem = decision_step_problem(poll=self.instance.poll, step=step, previous=previous)
        if problem:
            _step_error(self, problem, {"status": "new_status", "on": "on", "note": "note"})
        return data

    def step(self) -> DecisionStep:
        data = self.cleaned_data
        return DecisionStep(status=data["new_status"], on=data["on"], note=data["note"])


class DecisionUpdateInline(admin.TabularInline):
    """The decision's history: every step, oldest first, never edited."""

    model = DecisionUpdate
    extra = 0
    fields = ["date", "status", "note", "created_by", "created_at"]
    readonly_fields = fields
    ordering = ["pk"]
    can_delete = False
    verbose_name = _("step")
    verbose_name_plural = _("history")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Decision)
class DecisionAdmin(AuditedModelAdmin):
    """Decisions are recorded and moved on here, through the services; what was decided and
    its history are read-only, and a decision is never deleted (it is the public record)."""

    list_display = ["short_text", "poll", "status", "responsible_body", "decided_on"]
    list_filter = ["status", "decided_on"]
    list_select_related = ["poll"]
    search_fields = ["text", "responsible_body", "poll__title"]
    autocomplete_fields = ["poll"]
    date_hierarchy = "decided_on"
    inlines = [DecisionUpdateInline]
    add_fieldsets = [
        (None, {"fields": ["poll", "text", "responsible_body", "decided_on"]}),
        (_("Status"), {"fields": ["status", "note"]}),
    ]
    record_fields = ["poll", "text", "responsible_body", "decided_on", "status", "recorded_by"]
    progress_fieldset = (_("New step"), {"fields": ["new_status", "on", "note"]})

    def has_delete_permission(self, request, obj=None):
        return False  # the public record (the database refuses it too)

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = DecisionProgressForm if obj is not None else DecisionRecordForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.add_fieldsets
        fieldsets = [(None, {"fields": self.record_fields})]
        if self.has_change_permission(request, obj):
            fieldsets.append(self.progress_fieldset)
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        return self.record_fields if obj is not None else []

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    @admin.display(description=_("decision"))
    def short_text(self, decision: Decision) -> str:
        return Truncator(decision.text).chars(80)

    def save_model(self, request, obj, form, change):
        if not change:
            decision = decision_record(
                poll=form.cleaned_data["poll"],
                text=form.cleaned_data["text"],
                responsible_body=form.cleaned_data["responsible_body"],
                step=form.step(),
                recorded_by=request.user,
            )
            obj.pk, obj.status = decision.pk, decision.status  # for the redirect and the log
        elif form.has_changed():
            decision_update(decision=obj, step=form.step(), updated_by=request.user)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """A refusal the form could not foresee (another admin's update got in first) is
        shown as a message, never as an error page."""
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DecisionError as error:
            self.message_user(request, str(error), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


@admin.register(BallotFlagRun)
class BallotFlagRunAdmin(ReadOnlyAdmin):
    """The election commission's flaggings of suspended accounts' ballots (made only by
    ``manage.py ballots_flag``, with the audit private key); the recount is a staff page."""

    list_display = [
        "poll",
        "created_at",
        "suspended_participations",
        "flagged",
        "unlinked",
        "note",
        "recount",
    ]
    list_select_related = ["poll"]
    search_fields = ["poll__title"]
    fields = ["poll", "created_at", "suspended_participations", "unlinked", "note"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(flagged=Count("flags"))

    @admin.display(description=_("ballots flagged"))
    def flagged(self, run) -> int:
        return run.flagged

    @admin.display(description=_("recount"))
    def recount(self, run) -> str:
        url = reverse("staff_recount", args=[run.poll_id])
        return format_html('<a href="{}?run={}">{}</a>', url, run.pk, _("with and without"))
