import pytest  # noqa: I001
from django.urls import reverse

import re

from accounts.invites import inviter_id
from accounts.models import User
from rewards.models import LedgerEntry, Reason, Wallet
from rewards.services import POINTS_INVITE
from tests.accounts.factories import UserFactory
from tests.accounts.test_signup import code_from
from tests.polls.factories import three_question_poll
from tests.polls.test_schedule import vote

PASSWORD = "a-long-resident-password"


@pytest.mark.django_db
def test_invited_neighbour_signs_up_votes_and_both_get_points_once(client, mailoutbox):
    inviter = UserFactory()
    client.force_login(inviter)
    profile = client.get(reverse("profile")).content.decode()
    token = re.search(r"/invite/([^/\"]+)/", profile).group(1)
    assert inviter_id(token=token) == inviter.pk
    client.logout()

    client.get(reverse("invite", args=[token]))
    client.post(
        reverse("account_signup"),
        {"email": "new@example.org", "password1": PASSWORD, "password2": PASSWORD},
    )
    client.post(reverse("account_email_verification_sent"), {"code": code_from(mailoutbox[0])})
    invitee = User.objects.get(email="new@example.org")
    assert invitee.invited_by == inviter
    assert not LedgerEntry.objects.filter(reason=Reason.INVITE).exists()  # not before voting

    poll = three_question_poll(points=20)
    vote(poll, invitee)
    vote(three_question_poll(points=20), invitee)
    assert Wallet.objects.get(user=inviter).balance == POINTS_INVITE
    assert Wallet.objects.get(user=invitee).balance == POINTS_INVITE + 40
    assert LedgerEntry.objects.filter(reason=Reason.INVITE).count() == 2


@pytest.mark.django_db
def test_a_forged_invitation_is_refused(client):
    response = client.get(reverse("invite", args=["forged-token"]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("account_signup")
    assert "invited_by" not in client.session
