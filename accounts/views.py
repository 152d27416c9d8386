from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.forms import AccountDeleteForm, ProfileForm, ResidencyClaimForm, ResidencyCodeForm
from accounts.invites import INVITER_SESSION_KEY, invite_token, inviter_id
from accounts.mfa import has_active_authenticator
from accounts.models import User
from accounts.notifications import notification_text, notifications_mark_read
from accounts.privacy import (
    DeletionRefused,
    account_delete,
    mfa_code_needed,
    personal_data_document,
)
from accounts.selectors import (
    building_residency,
    building_resident_count,
    latest_claim,
    resident_with_home,
)
from accounts.services import (
    ProfileError,
    ResidencyError,
    home_building_next_change_at,
    home_move_interval,
    profile_update,
    residency_claim_request,
    residency_verify_code,
)
from civic.ratelimits import rate_limit, user_key
from civic.selectors import building_search
from polls.selectors import building_surveys
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
            "two_factor": has_active_authenticator(request.user),
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
    """The home building: its facts, the resident's verification, and — for verified
    residents — the building's surveys."""
    resident = resident_with_home(user_id=request.user.pk)
    return _my_building_page(request, resident)


def _my_building_page(
    request: HttpRequest, resident: User, status: int = 200, **forms
) -> HttpResponse:
    building = resident.home_building
    context = {
        "resident": resident,
        "building": building,
        "resident_count": building_resident_count(building=building) if building else 0,
        "claim": latest_claim(user=resident),
        "code_form": forms.get("code_form") or ResidencyCodeForm(),
        "claim_form": forms.get("claim_form") or ResidencyClaimForm(),
    }
    if resident.verified_building_id:
        context["residency"] = building_residency(building_id=resident.verified_building_id)
        context["surveys"] = building_surveys(user=resident)
    return render(request, "accounts/my_building.html", context, status=status)


@login_required
@require_POST
def residency_verify(request: HttpRequest) -> HttpResponse:
    """Enter the code from the letter posted to the apartment."""
    rate_limit(scope="residency_code", key=user_key(request.user))  # and the API's
    return _residency_step(
        request,
        form=ResidencyCodeForm(request.POST),
        form_name="code_form",
        step=lambda resident, data: residency_verify_code(user=resident, code=data["code"]),
        success=_("Your address is verified. Welcome, neighbour!"),
    )


@login_required
@require_POST
def residency_claim(request: HttpRequest) -> HttpResponse:
    """Ask the city staff to verify the address (when no letter came)."""
    return _residency_step(
        request,
        form=ResidencyClaimForm(request.POST),
        form_name="claim_form",
        step=lambda resident, data: residency_claim_request(user=resident, note=data["note"]),
        success=_("Your claim is sent. The city staff will check it."),
    )


def _residency_step(request: HttpRequest, *, form, form_name: str, step, success: str):
    """Run a residency service with the form's data; a refusal is shown on "My building"
    with its status code (400, 409, or 429 for too many tries)."""
    resident = resident_with_home(user_id=request.user.pk)
    if not form.is_valid():
        return _my_building_page(request, resident, status=400, **{form_name: form})
    try:
        step(resident, form.cleaned_data)
    except ResidencyError as error:
        form.add_error(next(iter(form.fields)), str(error))
        return _my_building_page(request, resident, status=error.status, **{form_name: form})
    messages.success(request, success)
    return redirect("my_building")


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


# --- the resident's data, and deleting the account (accounts/privacy.py) -----------------------


@login_required
def my_data(request: HttpRequest) -> HttpResponse:
    """Everything Civic keeps about the resident, as a JSON file."""
    response = HttpResponse(
        personal_data_document(user=request.user), content_type="application/json; charset=utf-8"
    )
    filename = f"civic-my-data-{timezone.localdate():%Y-%m-%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def delete_account(request: HttpRequest) -> HttpResponse:
    """Delete the account, confirmed with the password (and a code with two-factor on)."""
    needs_code = mfa_code_needed(user=request.user)
    form = AccountDeleteForm(request.POST or None, needs_code=needs_code)
    if request.method == "POST" and form.is_valid():
        try:
            account_delete(
                user=request.user,
                password=form.cleaned_data["password"],
                code=form.cleaned_data.get("code", ""),
            )
        except DeletionRefused as error:
            form.add_error(error.field, str(error))
        else:
            logout(request)
            messages.success(request, _("Your account is deleted. Thank you for taking part."))
            return redirect("home")
    status = 400 if form.errors else 200
    return render(request, "accounts/delete_account.html", {"form": form}, status=status)
