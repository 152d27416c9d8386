from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from civic.ratelimits import rate_limit, user_key
from rewards.forms import CatalogueFilter
from rewards.models import Reward
from rewards.selectors import (
    donated_total,
    ledger_history,
    resident_redemptions,
    resident_standing,
    rewards_catalogue,
)
from rewards.services import RewardsError, reward_redeem

HISTORY_PER_PAGE = 20


@login_required
def my_points(request: HttpRequest) -> HttpResponse:
    page = Paginator(ledger_history(user=request.user), HISTORY_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "rewards/my_points.html",
        {"standing": resident_standing(user=request.user), "page": page},
    )


def catalogue(request: HttpRequest) -> HttpResponse:
    """The shop: everyone may look; signed-in residents see what they can afford."""
    form = CatalogueFilter(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    standing = resident_standing(user=request.user) if request.user.is_authenticated else None
    affordable_for = standing.balance if standing and filters.get("affordable") else None
    return render(
        request,
        "rewards/catalogue.html",
        {
            "form": form,
            "rewards": rewards_catalogue(
                category=filters.get("category", ""), affordable_for=affordable_for
            ),
            "standing": standing,
            "donated": donated_total(),
        },
        status=200 if form.is_valid() or not request.GET else 400,
    )


@login_required
@require_POST
def redeem(request: HttpRequest, reward_id: int) -> HttpResponse:
    reward = get_object_or_404(Reward, pk=reward_id)
    rate_limit(scope="redeem", key=user_key(request.user))  # shared with the API's RedeemView
    try:
        redemption = reward_redeem(user=request.user, reward_id=reward.pk)
    except RewardsError as refused:
        return render(
            request,
            "rewards/refused.html",
            {"reward": reward, "message": str(refused)},
            status=refused.status,
        )
    if reward.is_donation:
        messages.success(
            request, _("Thank you! Your points went to “%(title)s”.") % {"title": reward.title}
        )
    else:
        messages.success(
            request,
            _("Done! Your voucher for “%(title)s”: %(code)s")
            % {"title": reward.title, "code": redemption.voucher},
        )
    return redirect("my_redemptions")


@login_required
def my_redemptions(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "rewards/my_redemptions.html",
        {"redemptions": resident_redemptions(user=request.user)},
    )
