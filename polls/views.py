from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.selectors import visitor_with_home
from civic.models import Building, District, Okrug
from polls.forms import answers_from_post
from polls.models import Poll, PollStatus
from polls.rules import refusal_status, vote_refusal
from polls.selectors import home_polls, poll_breakdown, poll_results, public_poll
from polls.services import VoteRefused, ballot_cast
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
    """A published city poll; drafts only for staff who may change polls (as a preview)."""
    poll = public_poll(poll_id=poll_id, include_drafts=True)
    # The permission is asked only for a draft: it costs two queries.
    if poll is None or (
        poll.status == PollStatus.DRAFT and not request.user.has_perm("polls.change_poll")
    ):
        raise Http404
    return poll


def poll_detail(request: HttpRequest, poll_id: int) -> HttpResponse:
    poll = _poll_or_404(request, poll_id)
    visitor = visitor_with_home(user=request.user)
    questions = list(poll.questions.all())
    context = {"poll": poll, "questions": questions, "errors": {}, "submitted": {}}
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        try:
            answers = answers_from_post(questions=questions, data=request.POST)
            cast = ballot_cast(user=visitor, poll=poll, answers=answers)
        except InvalidBallot as invalid:
            context.update(
                errors=invalid.errors,
                general_errors=invalid.errors.get(None, []),
                submitted=request.POST,
            )
            status = 400
        except VoteRefused as refused:
            context.update(submitted=request.POST)
            status = refusal_status(refused.refusal.code)
        else:
            return _thanks(request, poll, cast.receipt)
    else:
        status = 200
    has_voted = request.user.is_authenticated and poll.participations.filter(user=visitor).exists()
    context["refusal"] = vote_refusal(user=visitor, poll=poll, has_voted=has_voted)
    context["has_voted"] = has_voted
    return render(request, "polls/poll_detail.html", context, status=status)


def _thanks(request: HttpRequest, poll: Poll, receipt: str) -> HttpResponse:
    """The thank-you page, as the answer to the vote itself: the receipt is shown once and
    stored nowhere next to the resident (not in the session either), so it cannot link
    them to their ballot. Reloading re-posts and gets "already voted"."""
    results = poll_results(poll=poll) if poll.results_visible() else None
    return render(
        request,
        "polls/thanks.html",
        {"poll": poll, "receipt": receipt, "results": results},
        status=201,
    )


def poll_results_page(request: HttpRequest, poll_id: int) -> HttpResponse:
    poll = _poll_or_404(request, poll_id)
    if not poll.results_visible():
        return render(request, "polls/results_hidden.html", {"poll": poll}, status=403)
    return render(
        request,
        "polls/results.html",
        {
            "poll": poll,
            "results": poll_results(poll=poll),
            "breakdowns": poll_breakdown(poll=poll),
        },
    )
