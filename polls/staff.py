"""Staff pages: the overview of polls, a dashboard per poll, and the CSV exports.

City staff and city admins (permission ``polls.export_poll``) see every city poll; a
building survey's exports belong to its author and city admins. Residents get 403 and
anonymous visitors the login page.
"""

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy

from accounts.groups import CITY_ADMINS
from accounts.models import User
from audit.models import AuditAction
from audit.services import audit_record
from polls import exports
from polls.escrow import latest_flag_run
from polls.models import BallotFlagRun, ExportKind, Phase, Poll, Scope
from polls.recount import poll_recount, recount_rows
from polls.selectors import participation_by_hour, percent, poll_results, poll_with_questions
from polls.services import export_record

EXPORT_PERMISSION = "polls.export_poll"


def may_export(user: User, poll: Poll) -> bool:
    if user.is_superuser:
        return True
    if poll.scope == Scope.BUILDING:  # its author, while a verified resident there and
        author = poll.created_by_id == user.pk  # once the results may be seen
        if author and user.verified_building_id == poll.building_id and poll.results_visible():
            return True
        return user.groups.filter(name=CITY_ADMINS).exists()
    return user.has_perm(EXPORT_PERMISSION)


def _poll_for_staff(request: HttpRequest, poll_id: int) -> Poll:
    try:
        poll = poll_with_questions(poll_id=poll_id)
    except Poll.DoesNotExist as error:
        raise Http404 from error
    if not may_export(request.user, poll):
        raise PermissionDenied
    return poll


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(EXPORT_PERMISSION):
        raise PermissionDenied
    polls = (
        Poll.objects.exclude(scope=Scope.BUILDING)
        .annotate(participants=Count("participations"))
        .order_by("-opens_at")
    )
    return render(request, "polls/staff/overview.html", {"polls": polls})


TURNOUT_SQL = """
    SELECT o.name, d.name, count(u.id), count(p.id)
    FROM civic_district d
    JOIN civic_okrug o ON o.id = d.okrug_id
    LEFT JOIN civic_building b ON b.district_id = d.id
    LEFT JOIN accounts_user u ON u.home_building_id = b.id AND u.is_active
    LEFT JOIN polls_participation p ON p.user_id = u.id AND p.poll_id = %(poll)s
    GROUP BY o.name, d.name
    ORDER BY o.name, d.name
"""


@login_required
def dashboard(request: HttpRequest, poll_id: int) -> HttpResponse:
    """Participation over time, turnout by district against registered residents, the
    results, and links to every export."""
    poll = _poll_for_staff(request, poll_id)
    per_hour: dict[str, int] = {}
    for hour, _district, count in participation_by_hour(poll=poll, time_zone=settings.TIME_ZONE):
        per_hour[hour] = per_hour.get(hour, 0) + count
    peak = max(per_hour.values(), default=0)
    with connection.cursor() as cursor:
        cursor.execute(TURNOUT_SQL, {"poll": poll.pk})
        turnout = [
            {
                "okrug": okrug,
                "district": district,
                "residents": residents,
                "participants": participants,
                "share": percent(participants, residents),
            }
            for okrug, district, residents, participants in cursor.fetchall()
        ]
    return render(
        request,
        "polls/staff/dashboard.html",
        {
            "poll": poll,
            "okrug_turnout": _okrug_turnout(turnout),
            "district_turnout": [row for row in turnout if row["participants"]],
            "timeline": [
                {"hour": hour, "count": count, "percent": round(100 * count / peak) if peak else 0}
                for hour, count in per_hour.items()
            ],
            "results": poll_results(poll=poll),
            "export_kinds": ExportKind.choices,
        },
    )


def _okrug_turnout(districts: list[dict]) -> list[dict]:
    okrugs: dict[str, dict] = {}
    for row in districts:
        okrug = okrugs.setdefault(
            row["okrug"], {"okrug": row["okrug"], "residents": 0, "participants": 0}
        )
        okrug["residents"] += row["residents"]
        okrug["participants"] += row["participants"]
    for okrug in okrugs.values():
        okrug["share"] = percent(okrug["participants"], okrug["residents"])
    return list(okrugs.values())


@login_required
def export(request: HttpRequest, poll_id: int, kind: str) -> StreamingHttpResponse:
    return export_response(request, poll_id=poll_id, kind=kind)


def export_response(request, *, poll_id: int, kind: str) -> StreamingHttpResponse:
    """The CSV download, for the staff page and the API alike (the API authenticates
    ``request.user`` by session or X-Session-Token first)."""
    poll = _poll_for_staff(request, poll_id)
    separator = exports.SEPARATORS.get(request.GET.get("sep", "comma"))
    if separator is None or kind not in ExportKind.values:
        raise Http404
    file_name = exports.export_file_name(poll, kind, today=timezone.localdate())
    if kind == ExportKind.BALLOTS:
        include_text = request.user.has_perm(EXPORT_PERMISSION)
        if not include_text and poll.phase() != Phase.CLOSED:
            raise PermissionDenied  # two downloads while open would show each new ballot
        body = exports.ballots_stream(poll, separator=separator, include_text=include_text)
    else:
        rows = {
            ExportKind.RESULTS: lambda: exports.results_rows(poll),
            ExportKind.BREAKDOWN: lambda: exports.breakdown_rows(poll),
            ExportKind.PARTICIPATION: lambda: exports.participation_rows(
                poll, time_zone=settings.TIME_ZONE
            ),
        }[kind]()
        body = exports.csv_stream(rows, separator=separator)
    export_record(user=request.user, poll=poll, kind=kind, file_name=file_name)
    response = StreamingHttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{file_name}"'
    return response


# --- recount without flagged ballots (docs/decisions/0009) ------------------------------------


class RecountChoice(forms.Form):
    """Which flagging to leave out (default: the poll's latest) and the CSV separator."""

    run = forms.ModelChoiceField(
        queryset=BallotFlagRun.objects.none(),
        required=False,
        label=gettext_lazy("Flagging"),
        empty_label=gettext_lazy("the latest"),
    )
    sep = forms.ChoiceField(
        choices=[(name, name) for name in exports.SEPARATORS], required=False, initial="comma"
    )

    def __init__(self, data, *, poll: Poll):
        super().__init__(data)
        self.fields["run"].queryset = BallotFlagRun.objects.filter(poll=poll)


def _recount_page(request: HttpRequest, poll_id: int):
    """Those who may see the poll's dashboard and hold the export permission: city staff
    and admins for a city poll, city admins for a building survey (its author never sees
    whose ballots are flagged). The recount of the chosen flagging, or the page with the
    form's errors (400)."""
    if not request.user.has_perm(EXPORT_PERMISSION):
        raise PermissionDenied
    poll = _poll_for_staff(request, poll_id)
    choice = RecountChoice(request.GET, poll=poll)
    valid = choice.is_valid()
    run = (choice.cleaned_data.get("run") if valid else None) or latest_flag_run(poll_id=poll.pk)
    context = {
        "poll": poll,
        "choice": choice,
        "recount": poll_recount(poll=poll, run=run),
        "runs": BallotFlagRun.objects.filter(poll=poll).annotate(flagged=Count("flags")),
    }
    return valid, context


@login_required
def recount(request: HttpRequest, poll_id: int) -> HttpResponse:
    """Results with every ballot and without those flagged as cast from suspended accounts."""
    valid, context = _recount_page(request, poll_id)
    return render(request, "polls/staff/recount.html", context, status=200 if valid else 400)


@login_required
def recount_csv(request: HttpRequest, poll_id: int) -> HttpResponse:
    valid, context = _recount_page(request, poll_id)
    if not valid:
        return render(request, "polls/staff/recount.html", context, status=400)
    result = context["recount"]
    separator = exports.SEPARATORS[context["choice"].cleaned_data["sep"] or "comma"]
    file_name = exports.export_file_name(result.poll, "recount", today=timezone.localdate())
    audit_record(actor=request.user, action=AuditAction.DOWNLOAD, obj=result.poll, detail=file_name)
    body = exports.csv_stream(recount_rows(result), separator=separator)
    response = StreamingHttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{file_name}"'
    return response
