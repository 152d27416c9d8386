"""A public discussion in a real browser: a resident of the district reads the project's
documents and posts a proposal; a resident elsewhere is told why they cannot; a city admin
gives the proposal an official answer in the admin; the resident sees the answer under
their proposal and in their notifications. Key pages are screenshotted and checked with
axe and for untranslated text."""

import io
import re

import pytest
from django.core.files.base import ContentFile
from PIL import Image

from discussions.models import Document, Post
from tests.accounts.factories import UserFactory
from tests.browser.journey import ADMIN_WIDGETS, check_page
from tests.browser.test_poll_end_to_end import sign_in
from tests.civic.factories import BuildingFactory, DistrictFactory
from tests.discussions.factories import DiscussionFactory, PostFactory

PROPOSAL = "Сделать велодорожку отдельно от пешеходной зоны"
ANSWER = "Велодорожку отделим газоном: проект уже дорабатывается."


def png() -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (320, 180), "#7fb3d5").save(output, format="PNG")
    return output.getvalue()


@pytest.mark.django_db(transaction=True)
def test_a_resident_proposes_and_an_admin_answers_in_the_admin(live_server, new_page):
    base = live_server.url
    test = "discussion"
    arbat = DistrictFactory(name="Арбат")
    discussion = DiscussionFactory(title="Благоустройство Арбата", scope="areas", districts=[arbat])
    Document.objects.create(
        discussion=discussion,
        title="Пояснительная записка",
        file=ContentFile(b"%PDF-1.4\n%%EOF\n", "note.pdf"),
        position=1,
    )
    Document.objects.create(
        discussion=discussion,
        title="Схема участка",
        file=ContentFile(png(), "plan.png"),
        position=2,
    )
    PostFactory(discussion=discussion, text="Хорошо бы сохранить старые деревья.")
    resident = UserFactory(home_building=BuildingFactory(district=arbat))
    outsider = UserFactory(home_building=BuildingFactory(district=DistrictFactory(name="Марьино")))
    UserFactory(email="admin@example.org", is_staff=True, is_superuser=True)

    page = new_page()
    sign_in(page, base, resident.email)
    page.click("nav >> text=Обсуждения")
    check_page(page, "1-list", test_name=test)
    page.click("text=Благоустройство Арбата")
    assert page.locator("img[alt='Схема участка']").is_visible()
    assert page.locator("a[download]", has_text="Пояснительная записка").count() == 1
    check_page(page, "2-discussion", test_name=test)
    page.check("input[name=kind][value=proposal]")
    page.fill("textarea[name=text]", PROPOSAL)
    page.click("button:has-text('Опубликовать')")
    page.wait_for_selector(".messages")
    proposal = Post.objects.get(text=PROPOSAL)
    assert page.locator(f"#post-{proposal.pk}").inner_text().count("Предложение") == 1
    check_page(page, "3-proposal-published", test_name=test)

    other = new_page()
    sign_in(other, base, outsider.email)
    other.goto(f"{base}/discussions/{discussion.pk}/")
    refusal = other.locator("#take-part-section .refusal").inner_text()
    assert "Арбат" in refusal and "Марьино" in refusal
    assert other.locator("textarea[name=text]").count() == 0

    admin = new_page()
    sign_in(admin, base, "admin@example.org", staff=True)
    admin.goto(f"{base}/admin/discussions/post/")
    admin.click(f"a[href$='/admin/discussions/post/{proposal.pk}/change/']")
    admin.fill("textarea[name=official_answer]", ANSWER)
    check_page(admin, "4-admin-answers", test_name=test, exclude=ADMIN_WIDGETS)
    admin.click("input[name=_save]")
    admin.wait_for_url(re.compile(r"/admin/discussions/post/$"))
    proposal.refresh_from_db()
    assert proposal.answer == ANSWER

    page.goto(f"{base}/discussions/{discussion.pk}/")
    answer = page.locator(f"#post-{proposal.pk} .official-answer").inner_text()
    assert "Официальный ответ города" in answer and ANSWER in answer
    check_page(page, "5-answer-seen", test_name=test)
    page.click(".notifications-link")
    assert "Город ответил на ваше предложение" in page.locator("main").inner_text()
    check_page(page, "6-notification", test_name=test)
