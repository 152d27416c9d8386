from datetime import date, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.rules import AccountSuspended
from accounts.selectors import visitor_with_home
from civic.ratelimits import rate_limit, user_key
from novelties.forms import RANKING_YEARS, RankingFilter, RatingForm
from novelties.models import COMMENT_MAX_LENGTH, Novelty
from novelties.rules import refusal_status
from novelties.selectors import (
    month_bounds,
    novelties_near,
    novelty_cards,
    novelty_page,
    novelty_ranking,
    visible_novelty,
)
from novelties.services import InvalidRating, RatingRefused, novelty_rate

PER_PAGE = 20


def novelty_list(request: HttpRequest) -> HttpResponse:
    """Novelties near the resident first (their district, their okrug, then the city)."""
    visitor = visitor_with_home(user=request.user)
    page = Paginator(novelties_near(user=visitor), PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "novelties/list.html",
        {"page": page, "listing": novelty_cards(user=visitor, novelties=page.object_list)},
    )


def _novelty_or_404(request: HttpRequest, novelty_id: int) -> Novelty:
    """A published novelty; a draft only for staff who may change novelties (a preview)."""
    novelty = visible_novelty(novelty_id=novelty_id, include_drafts=True)
    if novelty is None or (
        novelty.published_at is None and not request.user.has_perm("novelties.change_novelty")
    ):
        raise Http404
    return novelty


def novelty_detail(request: HttpRequest, novelty_id: int) -> HttpResponse:
    """The novelty, its ratings and comments, and the visitor's rating form (POST rates)."""
    novelty = _novelty_or_404(request, novelty_id)
    visitor = visitor_with_home(user=request.user)
    if request.method != "POST":
        return _detail_page(request, novelty, visitor, form=None)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    rate_limit(scope="rating", key=user_key(request.user))
    form = RatingForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, novelty, visitor, form=form, status=400)
    try:
        saved = novelty_rate(
            user=visitor,
            novelty=novelty,
            stars=form.cleaned_data["stars"],
            comment=form.cleaned_data["comment"],
        )
    except InvalidRating as invalid:
        form.add_error(invalid.field, str(invalid))
        return _detail_page(request, novelty, visitor, form=form, status=400)
    except RatingRefused as refused:
        form.add_error(None, refused.refusal.message)
        status = refusal_status(refused.refusal.code)
        return _detail_page(request, novelty, visitor, form=form, status=status)
    except AccountSuspended as suspended:
        form.add_error(None, str(suspended))
        return _detail_page(request, novelty, visitor, form=form, status=suspended.status)
    messages.success(request, _rated_message(created=saved.created, points=saved.points))
    return redirect("novelty_detail", novelty.pk)


def _rated_message(*, created: bool, points: int) -> str:
    message = _("Thank you! Your rating is saved.") if created else _("Your rating is changed.")
    if points:
        message += " " + ngettext(
            "You earned %(points)d point.", "You earned %(points)d points.", points
        ) % {"points": points}
    return message


def _detail_page(
    request: HttpRequest, novelty: Novelty, visitor, *, form: RatingForm | None, status: int = 200
) -> HttpResponse:
    page = novelty_page(user=visitor, novelty=novelty)
    if form is None:
        mine = page.my_rating
        form = RatingForm(initial={"stars": mine.stars, "comment": mine.comment} if mine else None)
    return render(
        request,
        "novelties/detail.html",
        {
            "novelty": novelty,
            "page": page,
            "form": form,
            "comment_limit": COMMENT_MAX_LENGTH,
        },
        status=status,
    )


def novelty_ranking_page(request: HttpRequest) -> HttpResponse:
    """The best and worst rated novelties of a month, by category and okrug."""
    form = RankingFilter(request.GET or None)
    valid = form.is_valid()
    filters = form.cleaned_data if valid else {}
    month = filters.get("month") or timezone.localdate()
    okrug = filters.get("okrug")
    ranking = novelty_ranking(
        month=month,
        category=filters.get("category", ""),
        okrug_id=okrug.pk if okrug else None,
        min_ratings=settings.NOVELTY_RANKING_MIN_RATINGS,
    )
    first, following = month_bounds(ranking.month)
    return render(
        request,
        "novelties/ranking.html",
        {
            "form": form,
            "ranking": ranking,
            "previous_query": _month_query(first - timedelta(days=1), filters),
            "next_query": _month_query(following, filters),
        },
        status=200 if valid or not request.GET else 400,
    )


def _month_query(month: date, filters: dict) -> str:
    """The ranking's query string for another month, keeping the other filters; empty for
    a month the ranking refuses (no link)."""
    if month.year not in RANKING_YEARS:
        return ""
    params = {"month": month.strftime("%Y-%m")}
    if filters.get("category"):
        params["category"] = filters["category"]
    if filters.get("okrug"):
        params["okrug"] = filters["okrug"].pk
    return urlencode(params)
