"""Pages of public discussions: the list, a discussion with its threads, the residents'
actions (post, reply, support, report) and the staff's summary CSV.

Actions answer with a redirect back to the post on success; a refusal shows the discussion
page again with the message next to the form, and the status that says why (400 bad text,
403 not allowed, 409 closed or already done; 429 comes from the rate limiter).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.rules import AccountSuspended
from accounts.selectors import visitor_with_home
from audit.models import AuditAction
from audit.services import audit_record
from civic.ratelimits import rate_limit, user_key
from discussions import exports
from discussions.forms import PostForm, ReplyForm, ReportForm
from discussions.models import Discussion, Post
from discussions.selectors import (
    discussion_cards,
    discussion_for_page,
    discussion_page,
    discussions_listed,
    post_for_action,
)
from discussions.services import (
    DiscussionError,
    post_create,
    post_report,
    proposal_support,
    reply_create,
)
from polls.exports import SEPARATORS, csv_stream

EXPORT_PERMISSION = "discussions.export_discussion"


def discussion_list(request: HttpRequest) -> HttpResponse:
    visitor = visitor_with_home(user=request.user)
    cards = discussion_cards(user=visitor, discussions=discussions_listed())
    return render(request, "discussions/list.html", {"cards": cards})


def _discussion_or_404(discussion_id: int) -> Discussion:
    discussion = discussion_for_page(discussion_id=discussion_id)
    if discussion is None:
        raise Http404
    return discussion


def _page(
    request: HttpRequest, discussion: Discussion, *, status: int = 200, **context
) -> HttpResponse:
    visitor = visitor_with_home(user=request.user)
    page = discussion_page(
        discussion=discussion, user=visitor, page_number=request.GET.get("page", 1)
    )
    context = {
        "page": page,
        "discussion": discussion,
        "post_form": PostForm(),
        "report_form": ReportForm(),
        # Asked of staff only: the permission costs residents two queries.
        "may_export": request.user.is_staff and request.user.has_perm(EXPORT_PERMISSION),
        **context,
    }
    return render(request, "discussions/detail.html", context, status=status)


def discussion_detail(request: HttpRequest, discussion_id: int) -> HttpResponse:
    return _page(request, _discussion_or_404(discussion_id))


def _back_to(post: Post) -> HttpResponse:
    return redirect(reverse("discussion_detail", args=[post.discussion_id]) + f"#post-{post.pk}")


def _post_or_404(post_id: int) -> Post:
    post = post_for_action(post_id=post_id)
    if post is None:
        raise Http404
    return post


@login_required
@require_POST
def post_new(request: HttpRequest, discussion_id: int) -> HttpResponse:
    discussion = _discussion_or_404(discussion_id)
    form = PostForm(request.POST)
    if not form.is_valid():
        return _page(request, discussion, status=400, post_form=form)
    rate_limit(scope="comment", key=user_key(request.user))
    try:
        post = post_create(
            user=visitor_with_home(user=request.user),
            discussion=discussion,
            kind=form.cleaned_data["kind"],
            text=form.cleaned_data["text"],
        )
    except (DiscussionError, AccountSuspended) as error:
        form.add_error("text", str(error))
        return _page(request, discussion, status=error.status, post_form=form)
    messages.success(request, _("Your post is published."))
    return _back_to(post)


def _refused(request: HttpRequest, post: Post, error, **context) -> HttpResponse:
    """The discussion page again, with the refusal shown at the post it concerns."""
    return _page(
        request,
        _discussion_or_404(post.discussion_id),
        status=error.status,
        error_post=post.parent_id or post.pk,
        error_message=str(error),
        **context,
    )


@login_required
@require_POST
def post_reply(request: HttpRequest, post_id: int) -> HttpResponse:
    """A reply; to a reply it joins the thread of the top-level post (one level)."""
    post = _post_or_404(post_id)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        return _refused(request, post, DiscussionError(form.errors["text"][0]), reply_form=form)
    rate_limit(scope="comment", key=user_key(request.user))
    try:
        reply = reply_create(
            user=visitor_with_home(user=request.user), to=post, text=form.cleaned_data["text"]
        )
    except (DiscussionError, AccountSuspended) as error:
        return _refused(request, post, error, reply_form=form)
    messages.success(request, _("Your reply is published."))
    return _back_to(reply)


@login_required
@require_POST
def post_support(request: HttpRequest, post_id: int) -> HttpResponse:
    post = _post_or_404(post_id)
    try:
        proposal_support(user=visitor_with_home(user=request.user), post=post)
    except (DiscussionError, AccountSuspended) as error:
        return _refused(request, post, error)
    messages.success(request, _("You support this proposal."))
    return _back_to(post)


@login_required
@require_POST
def post_report_page(request: HttpRequest, post_id: int) -> HttpResponse:
    post = _post_or_404(post_id)
    try:
        post_report(user=request.user, post=post, reason=request.POST.get("reason", ""))
    except (DiscussionError, AccountSuspended) as error:
        return _refused(request, post, error)
    messages.success(request, _("Thank you: the city's moderators will look at it."))
    return _back_to(post)


@login_required
def summary_csv(request: HttpRequest, discussion_id: int) -> StreamingHttpResponse:
    """The published summary as CSV, for city staff (``?sep=semicolon`` for Excel in
    Russian locales). 404 until the summary is published."""
    if not request.user.has_perm(EXPORT_PERMISSION):
        raise PermissionDenied
    discussion = _discussion_or_404(discussion_id)
    separator = SEPARATORS.get(request.GET.get("sep", "comma"))
    if separator is None or getattr(discussion, "summary", None) is None:
        raise Http404
    file_name = exports.summary_file_name(discussion)
    audit_record(actor=request.user, action=AuditAction.DOWNLOAD, obj=discussion, detail=file_name)
    response = StreamingHttpResponse(
        csv_stream(exports.summary_rows(discussion), separator=separator),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{file_name}"'
    return response
