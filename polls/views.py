from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.selectors import visitor_with_home
from civic.codes import normalize_code
from civic.models import Building, District, Okrug
from civic.ratelimits import rate_limit, user_key
from polls.ballot_log import ballot_check, participation_curve, public_key_hex, tree_heads
from polls.forms import (
    DecisionFilterForm,
    QuestionFormSet,
    ReportForm,
    SurveyForm,
    answers_from_post,
    survey_data,
)
from polls.models import RECEIPT_LENGTH, Poll, PollStatus
from polls.open_data import FILES as OPEN_DATA_FILES
from polls.open_data import file_available, open_data_stream
from polls.rules import refusal_status, vote_refusal
from polls.selectors import (
    DecisionFilters,
    decision_counts,
    decisions_public,
    home_polls,
    open_ballot_votes,
    poll_breakdown,
    poll_decisions,
    poll_results,
    public_poll,
    survey_for_resident,
    survey_turnout,
    visible_poll,
    vote_state,
)
from polls.services import SurveyError, VoteRefused, ballot_cast, survey_create, survey_report
from polls.validation import InvalidBallot


def home(request: HttpRequest) -> HttpResponse:
    resident = visitor_with_home(user=request.user)
    return render(
        request,
        "polls/home.html",
        {
            "resident": resident if request.user.is_authenticated else None,
            "polls": home_polls(user=resident),
            "okrug_count": Okrug.objects.count(),
            "district_count": District.objects.count(),
            "building_count": Building.objects.count(),
        },
    )


def _poll_or_404(request: HttpRequest, poll_id: int) -> Poll:
    """A published city poll (a draft only for staff who may change polls, as a preview),
    or a building survey for the verified residents of its building: 404 for anyone else."""
    poll = visible_poll(user=request.user, poll_id=poll_id, include_drafts=True)
    # The permission is asked only for a draft: it costs two queries.
    if poll is None or (
        poll.status == PollStatus.DRAFT and not request.user.has_perm("polls.change_poll")
    ):
        raise Http404
    return poll


def poll_detail(request: HttpRequest, poll_id: int) -> HttpResponse:
    poll = _poll_or_404(request, poll_id)
    visitor = visitor_with_home(user=request.user)
    context = {}  # _detail_page fills in the defaults
    if request.method != "POST":
        return _detail_page(request, poll, visitor, context)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    rate_limit(scope="vote", key=user_key(request.user))  # shared with the API's VoteView
    try:
        answers = answers_from_post(questions=list(poll.questions.all()), data=request.POST)
        cast = ballot_cast(user=visitor, poll=poll, answers=answers)
    except InvalidBallot as invalid:
        context.update(
            errors=invalid.errors,
            general_errors=invalid.errors.get(None, []),
            submitted=request.POST,
        )
        return _detail_page(request, poll, visitor, context, status=400)
    except VoteRefused as refused:
        context.update(submitted=request.POST)
        return _detail_page(
            request, poll, visitor, context, status=refusal_status(refused.refusal.code)
        )
    return _thanks(request, poll, cast.receipt)


def _detail_page(
    request: HttpRequest, poll: Poll, visitor, context: dict, status: int = 200
) -> HttpResponse:
    """The poll page: the questions, and whether (and why not) the visitor may vote."""
    voted = vote_state(user=visitor, poll=poll)
    context = {
        "errors": {},
        "submitted": {},
        **context,
        "poll": poll,
        "questions": list(poll.questions.all()),
        "has_voted": voted.has_voted,
        "refusal": vote_refusal(
            user=visitor,
            poll=poll,
            has_voted=voted.has_voted,
            apartment_voted=voted.apartment_voted,
        ),
    }
    if poll.is_survey:
        context.setdefault("report_form", ReportForm())
    return render(request, "polls/poll_detail.html", context, status=status)


def _thanks(request: HttpRequest, poll: Poll, receipt: str) -> HttpResponse:
    """The thank-you page, as the answer to the vote itself: the receipt is shown once and
    stored nowhere next to the resident (not in the session either), so it cannot link
    them to their ballot. Reloading re-posts and gets "already voted"."""
    results = poll_results(poll=poll) if poll.results_visible() else None
    return render(
        request,
        "polls/thanks.html",
        {
            "poll": poll,
            "receipt": receipt,
            "results": results,
            "checkpoint_minutes": settings.BALLOT_LOG_CHECKPOINT_MINUTES,
        },
        status=201,
    )


def poll_results_page(request: HttpRequest, poll_id: int) -> HttpResponse:
    poll = _poll_or_404(request, poll_id)
    if not poll.results_visible():
        return render(request, "polls/results_hidden.html", {"poll": poll}, status=403)
    context = {"poll": poll, "results": poll_results(poll=poll)}
    if poll.is_survey:  # turnout instead of breakdowns: a building is one small group
        context["turnout"] = survey_turnout(poll=poll)
        context["open_votes"] = open_ballot_votes(poll=poll) if poll.open_ballot else None
    else:
        context["breakdowns"] = poll_breakdown(poll=poll)
        context["results"].decisions = poll_decisions(poll=poll)
    return render(request, "polls/results.html", context)


DECISIONS_PER_PAGE = 20


def decisions_page(request: HttpRequest) -> HttpResponse:
    """What the city decided after its polls, with filters and the headline counts over
    all that match, so its published figure can be checked poll by poll."""
    form = DecisionFilterForm(request.GET)
    valid = form.is_valid()
    decisions = decisions_public(filters=form.filters() if valid else DecisionFilters())
    page = Paginator(decisions, DECISIONS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "polls/decisions.html",
        {
            "form": form,
            "page": page,
            "counts": decision_counts(decisions=decisions),
            "one_poll": valid and form.cleaned_data["poll"] is not None,
        },
        status=200 if valid else 400,
    )


@login_required
def survey_new(request: HttpRequest) -> HttpResponse:
    """A verified resident creates a survey for their building (others are sent to verify)."""
    if request.user.verified_building_id is None:
        messages.error(request, _("Verify your address first: surveys are for neighbours."))
        return redirect("my_building")
    survey = SurveyForm(request.POST or None)
    questions = QuestionFormSet(request.POST or None, prefix="questions")
    status = 200
    if request.method == "POST":
        if survey.is_valid() and questions.is_valid():
            try:
                poll = survey_create(
                    author=request.user, data=survey_data(survey=survey, questions=questions)
                )
            except SurveyError as error:
                survey.add_error(None, str(error))
            else:
                messages.success(request, _("Your survey is published. Neighbours are notified."))
                return redirect("poll_detail", poll.pk)
        status = 400
    return render(
        request,
        "polls/survey_new.html",
        {"form": survey, "questions": questions},
        status=status,
    )


@login_required
@require_POST
def survey_report_page(request: HttpRequest, poll_id: int) -> HttpResponse:
    """A neighbour reports the survey; a bad report is shown again on the survey page."""
    poll = survey_for_resident(user=request.user, poll_id=poll_id)
    if poll is None:
        raise Http404
    form = ReportForm(request.POST)
    if form.is_valid():
        try:
            survey_report(user=request.user, poll=poll, reason=form.cleaned_data["reason"])
        except SurveyError as error:
            form.add_error("reason", ValidationError(str(error), code=error.code))
        else:
            messages.success(request, _("Thank you: the city's moderators will look at it."))
            return redirect("poll_detail", poll.pk)
    visitor = visitor_with_home(user=request.user)
    status = 409 if form.has_error("reason", "already_reported") else 400
    return _detail_page(request, poll, visitor, {"report_form": form}, status=status)


# --- verifiable results: the ballot log, "Check my vote" and open data ---------------------


def _city_poll_or_404(poll_id: int) -> Poll:
    poll = public_poll(poll_id=poll_id)
    if poll is None:
        raise Http404
    return poll


def check_vote(request: HttpRequest) -> HttpResponse:
    """Find a ballot by its receipt and prove it is in the signed log; the page's script
    repeats the proof in the browser, so nobody has to trust the server's word.

    The receipt comes in a POST body, never in the URL: access logs record URLs with the
    time and address, which next to the time of a participation would link voter and ballot.
    """
    receipt = normalize_code(request.POST.get("receipt", "")[:100])
    context = {
        "receipt": receipt,
        "public_key": public_key_hex(),
        "checkpoint_minutes": settings.BALLOT_LOG_CHECKPOINT_MINUTES,
    }
    if request.method != "POST":
        return render(request, "polls/check_vote.html", context)
    found = ballot_check(receipt=receipt) if len(receipt) == RECEIPT_LENGTH else None
    if found is None:
        context["error"] = _("No ballot has this receipt. Check the code and try again.")
        return render(request, "polls/check_vote.html", context, status=404)
    context["found"] = found
    if found.head is not None:
        context["proof_data"] = {  # the browser rebuilds the signed message from these
            "receipt": receipt,
            "poll": found.ballot.poll_id,
            "record": found.record,
            "index": found.index,
            "size": found.head.size,
            "time": found.head.time,
            "root": found.head.root,
            "proof": found.proof,
            "signature": found.head.signature,
            "public_key": context["public_key"],
        }
    return render(request, "polls/check_vote.html", context)


def ballot_log_page(request: HttpRequest, poll_id: int) -> HttpResponse:
    """A poll's signed checkpoints, its participation curve and its open data."""
    poll = _city_poll_or_404(poll_id)
    heads = tree_heads(poll_id=poll.pk)
    return render(
        request,
        "polls/ballot_log.html",
        {
            "poll": poll,
            "heads": heads,
            "curve": participation_curve(heads),
            "files": [name for name in OPEN_DATA_FILES if file_available(poll, name)],
            "licence": settings.OPEN_DATA_LICENCE,
            "public_key": public_key_hex(),
        },
    )


def open_data_file(request: HttpRequest, poll_id: int, name: str) -> HttpResponse:
    poll = _city_poll_or_404(poll_id)
    if name not in OPEN_DATA_FILES:
        raise Http404
    if not file_available(poll, name):
        return render(request, "polls/results_hidden.html", {"poll": poll}, status=403)
    response = StreamingHttpResponse(
        open_data_stream(poll, name), content_type=OPEN_DATA_FILES[name][0]
    )
    response["Content-Disposition"] = f'inline; filename="poll-{poll.pk}-{name}"'
    response["Access-Control-Allow-Origin"] = "*"  # open data: any site may fetch it
    return response


def ballot_log_key(request: HttpRequest) -> HttpResponse:
    """The public key that checks every tree head, as plain text."""
    return HttpResponse(public_key_hex() + "\n", content_type="text/plain; charset=utf-8")
