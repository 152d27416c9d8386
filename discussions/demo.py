"""Demo public discussions for `make demo`: an open discussion of an embankment project in
the central okrug, with its explanatory note (a PDF drawn with fpdf2) and a site plan (an
image drawn with Pillow), comments, proposals, replies, supports and an official answer; and
an ended citywide discussion with its summary. Everything goes through the real services;
loading twice changes nothing."""

import io
from dataclasses import dataclass, field
from datetime import timedelta

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from fpdf import FPDF
from PIL import Image, ImageDraw

from accounts.demo import DEMO_DOMAIN
from accounts.letters import FONTS
from accounts.models import Notification, User
from accounts.selectors import resident_with_home
from civic.models import Okrug
from civic.uploads import document_check
from discussions.models import Discussion, Document, PostKind
from discussions.selectors import post_for_action
from discussions.services import (
    discussion_summary_publish,
    post_create,
    proposal_answer,
    proposal_support,
    reply_create,
)
from polls.models import Scope

CITY_ADMIN = "admin@demo.civic.local"
DEMO_PARTICIPANTS = 30


@dataclass
class DemoPost:
    kind: str
    text: str
    replies: list[str] = field(default_factory=list)
    supports: int = 0
    answer: str = ""


@dataclass
class DemoDiscussion:
    title: str
    description: str
    starts_in_days: int
    lasts_days: int
    posts: list[DemoPost]
    okrug: str | None = None
    documents: bool = False


DEMO_DISCUSSIONS = [
    DemoDiscussion(
        title="Благоустройство Пречистенской набережной",
        description=(
            "Город готовит проект благоустройства Пречистенской набережной: пешеходная зона "
            "у воды, велодорожка, освещение, озеленение и места отдыха.\n\n"
            "Посмотрите пояснительную записку и схему участка, оставьте комментарии и "
            "предложения, поддержите лучшие идеи соседей. Город ответит на предложения, а "
            "итоги обсуждения будут опубликованы после его завершения."
        ),
        starts_in_days=-6,
        lasts_days=30,
        okrug="Центральный административный округ",
        documents=True,
        posts=[
            DemoPost(
                PostKind.PROPOSAL,
                "Сделать велодорожку отдельно от пешеходной зоны, с разметкой и ограждением.",
                replies=["Поддерживаю, сейчас велосипедисты едут прямо по тротуару."],
                supports=9,
                answer=(
                    "Спасибо за предложение. Велодорожка шириной 2,5 м будет отделена от "
                    "пешеходной зоны газоном; проект дорабатывается с учётом обсуждения."
                ),
            ),
            DemoPost(
                PostKind.PROPOSAL,
                "Поставить больше скамеек с навесами у воды и питьевые фонтанчики.",
                supports=6,
            ),
            DemoPost(
                PostKind.COMMENT,
                "Хорошо бы сохранить старые липы вдоль набережной — им больше ста лет.",
                replies=[
                    "Согласна, деревья — главное украшение этого места.",
                    "На схеме участка липы сохранены, если я правильно понял.",
                ],
            ),
            DemoPost(
                PostKind.PROPOSAL,
                "Сделать тёплое освещение и не ставить слишком яркие прожекторы: рядом жилые дома.",
                supports=3,
            ),
            DemoPost(PostKind.COMMENT, "Когда планируются работы и будет ли перекрыто движение?"),
        ],
    ),
    DemoDiscussion(
        title="Новый облик сквера у станции метро",
        description=(
            "Обсуждение проекта сквера у метро: дорожки, детская площадка и зона отдыха. "
            "Обсуждение завершено, его итоги опубликованы."
        ),
        starts_in_days=-40,
        lasts_days=30,
        posts=[
            DemoPost(
                PostKind.PROPOSAL,
                "Проложить дорожки там, где люди уже ходят, а не в обход газонов.",
                supports=7,
                answer="Дорожки проложены по сложившимся маршрутам пешеходов.",
            ),
            DemoPost(PostKind.PROPOSAL, "Добавить велопарковку у входа в метро.", supports=4),
            DemoPost(
                PostKind.COMMENT,
                "Детской площадке нужно мягкое покрытие и тень.",
                replies=["И ограждение со стороны дороги."],
            ),
        ],
    ),
]


def demo_discussions_load() -> int:
    """Create the demo discussions that do not exist yet; return how many were created."""
    existing = set(
        Discussion.objects.filter(title__in=[d.title for d in DEMO_DISCUSSIONS]).values_list(
            "title", flat=True
        )
    )
    missing = [demo for demo in DEMO_DISCUSSIONS if demo.title not in existing]
    for demo in missing:
        _demo_discussion_create(demo)
    return len(missing)


def _demo_discussion_create(demo: DemoDiscussion) -> None:
    """Made open, filled through the services, then moved to its dates; an ended one gets
    its summary as the beat would publish it. Notifications count as emailed long ago."""
    now = timezone.now()
    opens_at = now + timedelta(days=demo.starts_in_days)
    closes_at = opens_at + timedelta(days=demo.lasts_days)
    admin = User.objects.get(email=CITY_ADMIN)
    with transaction.atomic():
        discussion = Discussion.objects.create(
            title=demo.title,
            description=demo.description,
            scope=Scope.AREAS if demo.okrug else Scope.CITY,
            opens_at=opens_at,
            closes_at=max(closes_at, now + timedelta(days=1)),
            created_by=admin,
        )
        residents = User.objects.filter(is_staff=False, email__endswith=DEMO_DOMAIN)
        if demo.okrug:
            discussion.okrugs.set(Okrug.objects.filter(name=demo.okrug))
            residents = residents.filter(home_building__district__okrug__name=demo.okrug)
        if demo.documents:
            _demo_documents(discussion)
        ids = residents.order_by("pk").values_list("pk", flat=True)[:DEMO_PARTICIPANTS]
        people = [resident_with_home(user_id=pk) for pk in ids]
        _demo_posts(discussion, demo.posts, people, admin)
        Discussion.objects.filter(pk=discussion.pk).update(closes_at=closes_at)
        if closes_at <= now:
            discussion_summary_publish(discussion_id=discussion.pk)
        Notification.objects.filter(key__startswith="discussion").update(emailed_at=now)


def _demo_posts(discussion: Discussion, posts: list[DemoPost], people: list, admin: User) -> None:
    discussion = Discussion.objects.prefetch_related("okrugs", "districts").get(pk=discussion.pk)
    for number, demo in enumerate(posts):
        author = people[number % len(people)]
        post = post_create(user=author, discussion=discussion, kind=demo.kind, text=demo.text)
        post = post_for_action(post_id=post.pk)
        for offset, text in enumerate(demo.replies, start=1):
            reply_create(user=people[(number + offset * 3) % len(people)], to=post, text=text)
        supporters = [person for person in people if person.pk != author.pk][: demo.supports]
        for supporter in supporters:
            proposal_support(user=supporter, post=post)
        if demo.answer:
            proposal_answer(post=post, text=demo.answer, by=admin)


def _demo_documents(discussion: Discussion) -> None:
    for position, (title, content) in enumerate(
        (
            ("Пояснительная записка к проекту", _explanatory_note_pdf(discussion.title)),
            ("Схема участка", _site_plan_png()),
        ),
        start=1,
    ):
        document = Document(discussion=discussion, title=title, position=position)
        checked = document_check(ContentFile(content))  # as an upload in the admin would be
        document.file.save(checked.name, checked, save=False)
        document.save()


def _explanatory_note_pdf(title: str) -> bytes:
    pdf = FPDF(format="A4")
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 16)
    pdf.multi_cell(0, 9, title)
    pdf.ln(4)
    pdf.set_font("DejaVu", "", 11)
    for paragraph in (
        "Пояснительная записка (демонстрационный документ).",
        "Участок: набережная протяжённостью 1,2 км между двумя мостами. Существующее "
        "покрытие изношено, освещение недостаточно, мест отдыха мало.",
        "Предлагается: пешеходная зона у воды шириной 6 м; велодорожка шириной 2,5 м, "
        "отделённая газоном; 40 новых скамеек; тёплое освещение; сохранение всех деревьев "
        "и посадка 60 новых лип.",
        "Сроки: проектирование — до конца года, работы — следующий сезон, без перекрытия "
        "движения транспорта.",
    ):
        pdf.multi_cell(0, 6, paragraph)
        pdf.ln(2)
    return bytes(pdf.output())


def _site_plan_png() -> bytes:
    """A schematic plan: the river, the embankment with its cycle path and the trees."""
    image = Image.new("RGB", (960, 540), "#f4f1e8")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 380, 960, 540), fill="#7fb3d5")  # the river
    draw.rectangle((0, 300, 960, 380), fill="#d9d4c7")  # the pedestrian zone
    draw.rectangle((0, 270, 960, 300), fill="#c0392b")  # the cycle path
    draw.rectangle((0, 240, 960, 270), fill="#8bc34a")  # the lawn between
    for x in range(40, 960, 80):
        draw.ellipse((x - 22, 150, x + 22, 194), fill="#2e7d32")  # the lime trees
        draw.rectangle((x - 12, 320, x + 12, 330), fill="#6d4c41")  # benches
    output = io.BytesIO()
    image.save(output, format="PNG")
    return output.getvalue()
