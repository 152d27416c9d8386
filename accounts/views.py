from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.forms import ProfileForm
from accounts.invites import INVITER_SESSION_KEY, invite_token, inviter_id
from accounts.models import User
from accounts.notifications import notification_text, notifications_mark_read
from accounts.selectors import building_resident_count, resident_with_home
from accounts.services import (
    ProfileError,
    home_building_next_change_at,
    home_move_interval,
    profile_update,
)
from civic.selectors import building_search
from rewards.selectors import resident_achievements, resident_standing
from rewards.services import POINTS_INVITE


def _home_change_context(resident: User) -> dict:
    return {
        "resident": resident,
        "home_change_days": home_move_interval().days,
        "next_home_change_at": home_building_next_change_at(user=resident),
    }


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    resident = resident_with_home(user_id=request.user.pk)
    return render(
        request,
        "accounts/profile.html",
        {
            **_home_change_context(resident),
            "standing": resident_standing(user=resident),
            "achievements": resident_achievements(user=resident),
            "invite_points": POINTS_INVITE,
            "invite_url": request.build_absolute_uri(
                reverse("invite", args=[invite_token(user=resident)])
            ),
        },
    )


@login_required
def profile_edit(request: HttpRequest) -> HttpResponse:
    """Edit the profile. The "Find" button (or the script) searches buildings; "Save" saves."""
    resident = resident_with_home(user_id=request.user.pk)
    context = {**_home_change_context(resident), "buildings": []}
    if request.method != "POST":
        context["form"] = ProfileForm(initial=ProfileForm.initial_for(resident))
        return render(request, "accounts/profile_edit.html", context)
    if request.POST.get("action") == "search":
        context["form"] = ProfileForm(initial=request.POST.dict())
        context["buildings"] = building_search(query=request.POST.get("address_query", ""))
        context["searched"] = True
        return render(request, "accounts/profile_edit.html", context)
    form = context["form"] = ProfileForm(request.POST)
    if form.is_valid():
        try:
            profile_update(user=resident, changes=form.changes(user=resident))
        except ProfileError as error:
            form.add_error(error.field, str(error))
        else:
            messages.success(request, _("Your profile is saved."))
            response = redirect("profile")
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                resident.language,
                secure=settings.SESSION_COOKIE_SECURE,
                samesite="Lax",
            )
            return response
    if form.cleaned_data.get("home_building"):
        context["buildings"] = [form.cleaned_data["home_building"]]
    return render(request, "accounts/profile_edit.html", context, status=400)


@login_required
def building_search_results(request: HttpRequest) -> HttpResponse:
    """The building choices for a search, as an HTML fragment for the profile page's script."""
    query = request.GET.get("q", "")[:200]
    return render(
        request,
        "accounts/profile_edit.html#building-results",
        {"buildings": building_search(query=query), "searched": bool(query.strip())},
    )


@login_required
def my_building(request: HttpRequest) -> HttpResponse:
    resident = resident_with_home(user_id=request.user.pk)
    building = resident.home_building
    return render(
        request,
        "accounts/my_building.html",
        {
            "building": building,
            "resident_count": building_resident_count(building=building) if building else 0,
        },
    )


NOTIFICATIONS_PER_PAGE = 20


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    """The resident's notifications, newest first; "Mark all as read" clears the badge."""
    if request.method == "POST":
        notifications_mark_read(user=request.user)
        return redirect("notifications")
    page = Paginator(request.user.notifications.all(), NOTIFICATIONS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    items = [(notification, notification_text(notification)) for notification in page]
    return render(request, "accounts/notifications.html", {"page": page, "items": items})


def invite(request: HttpRequest, token: str) -> HttpResponse:
    """Follow an invitation: remember the inviter, then sign up."""
    inviter = inviter_id(token=token)
    if inviter is None:
        messages.error(request, _("This invitation link is not valid."))
        return redirect("account_signup")
    if not request.user.is_authenticated:
        request.session[INVITER_SESSION_KEY] = inviter
    return redirect("account_signup")
