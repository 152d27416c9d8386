"""Demo city novelties for `make demo`: a dozen novelties across okrugs and categories with
photos drawn by Pillow, rated by demo residents through the real rating service over the
past days. Two farms show the admin's suspicious-ratings report: one fresh account rating
a novelty every half minute, and six accounts created within one hour pushing one novelty
to five stars. The printed demo logins rate nothing, so whoever tries the demo can. Loading
twice changes nothing."""

import io
import random
import textwrap
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFont

from accounts.demo import DEMO_DOMAIN, STAFF_EMAIL
from accounts.models import User
from civic.demo import DEMO_PASSWORD
from civic.models import Building, District, Okrug
from novelties.models import Category, Novelty, NoveltyPhoto
from novelties.services import novelty_rate

SEED = 2026
FONT = Path(__file__).resolve().parent.parent / "accounts" / "fonts" / "DejaVuSans-Bold.ttf"
PHOTO_SIZE = (960, 540)


@dataclass(frozen=True)
class DemoNovelty:
    title: str
    description: str
    category: str
    okrug: str | None  # None: citywide
    district: str | None
    address: str
    days_ago: int  # when it happened; the current month's ones stay in the current month
    raters: int
    stars: tuple[int, ...]  # weights of 1..5 stars
    colour: tuple[int, int, int]
    photo_captions: tuple[str, ...]
    closed: bool = False  # last month's, rated and closed


CAO = "Центральный административный округ"
SAO = "Северный административный округ"
SVAO = "Северо-Восточный административный округ"
VAO = "Восточный административный округ"
UVAO = "Юго-Восточный административный округ"
UAO = "Южный административный округ"
UZAO = "Юго-Западный административный округ"
ZAO = "Западный административный округ"
SZAO = "Северо-Западный административный округ"
ZELAO = "Зеленоградский административный округ"

DEMO_NOVELTIES = [
    DemoNovelty(
        "Новая станция метро «Бульвар Яна Райниса»",
        "Открылась станция Большой кольцевой линии с выходами к поликлинике и парку. "
        "Лифты на всех выходах, велопарковка на 60 мест.",
        Category.TRANSPORT,
        SZAO,
        "Северное Тушино",
        "бульвар Яна Райниса",
        2,
        60,
        (1, 1, 2, 6, 9),
        (21, 79, 150),
        ("Вестибюль новой станции метро", "Платформа станции с колоннами"),
    ),
    DemoNovelty(
        "Сквер на Бауманской улице",
        "На месте стихийной парковки — сквер с липами, скамейками и питьевым фонтанчиком.",
        Category.PARKS,
        CAO,
        "Басманный",
        "Бауманская улица, 2",
        5,
        42,
        (1, 1, 2, 5, 8),
        (46, 125, 50),
        ("Аллея лип и скамейки в сквере", "Питьевой фонтанчик у входа в сквер"),
    ),
    DemoNovelty(
        "Детская поликлиника в Бибиреве после капремонта",
        "Отремонтированы кабинеты, появилась электронная очередь и пандусы у входа.",
        Category.HEALTH,
        SVAO,
        "Бибирево",
        "Белозерская улица, 1",
        7,
        35,
        (2, 2, 5, 6, 3),
        (0, 121, 140),
        ("Фасад поликлиники после ремонта",),
    ),
    DemoNovelty(
        "Выделенная полоса на Ленинском проспекте",
        "Автобусы и такси едут по выделенной полосе от Гагаринской площади до МКАД.",
        Category.STREETS,
        UZAO,
        "Гагаринский",
        "Ленинский проспект",
        3,
        48,
        (9, 7, 5, 3, 2),
        (90, 90, 100),
        ("Автобус на выделенной полосе", "Разметка выделенной полосы"),
    ),
    DemoNovelty(
        "Школа на 1100 мест в Крюкове",
        "Новое здание школы с бассейном, двумя спортзалами и кабинетами робототехники.",
        Category.EDUCATION,
        ZELAO,
        "Крюково",
        "Георгиевский проспект",
        10,
        30,
        (1, 1, 2, 6, 8),
        (180, 110, 30),
        ("Здание новой школы", "Школьный спортивный зал"),
    ),
    DemoNovelty(
        "Каток с искусственным льдом в Кузьминках",
        "Каток открыт до марта, прокат коньков и тёплая раздевалка.",
        Category.CULTURE,
        UVAO,
        "Кузьминки",
        "Волжский бульвар",
        1,
        28,
        (2, 3, 5, 5, 3),
        (40, 110, 170),
        ("Каток в парке вечером",),
    ),
    DemoNovelty(
        "Замена лифтов в домах Гольянова",
        "В 40 домах района заменены лифты, старые кабины вывезены.",
        Category.HOUSING,
        VAO,
        "Гольяново",
        "Алтайская улица",
        6,
        33,
        (6, 6, 6, 4, 2),
        (120, 80, 60),
        ("Новая кабина лифта",),
    ),
    DemoNovelty(
        "Центр госуслуг «Мои документы» в Дорогомилове",
        "Новый офис на 40 окон: паспорта, пособия, регистрация по месту жительства.",
        Category.SERVICES,
        ZAO,
        "Дорогомилово",
        "Бережковская набережная",
        4,
        26,
        (1, 2, 4, 6, 4),
        (60, 70, 140),
        ("Зал ожидания центра госуслуг",),
    ),
    DemoNovelty(
        "Велодорожка вдоль Москвы-реки",
        "Непрерывная велодорожка от Лужников до Парка Горького, 7 километров.",
        Category.STREETS,
        None,
        None,
        "от Лужников до Парка Горького",
        8,
        55,
        (1, 1, 3, 7, 9),
        (30, 140, 110),
        ("Велодорожка на набережной", "Велосипедисты у Парка Горького"),
    ),
    DemoNovelty(
        "Парковка у метро «Аэропорт» стала платной",
        "Парковка у станции теперь платная, первые 15 минут бесплатно.",
        Category.TRANSPORT,
        SAO,
        "Аэропорт",
        "",
        9,
        40,
        (10, 7, 4, 2, 1),
        (110, 110, 110),
        ("Знак платной парковки",),
    ),
    DemoNovelty(
        "Ярмарка выходного дня в Братееве",
        "Фермерские продукты по выходным, 30 павильонов у Алма-Атинской улицы.",
        Category.SERVICES,
        UAO,
        "Братеево",
        "Алма-Атинская улица, 2",
        30,
        24,
        (2, 3, 6, 5, 2),
        (150, 60, 40),
        ("Павильоны ярмарки",),
        closed=True,
    ),
    DemoNovelty(
        "Новые остановки с навесами в Вешняках",
        "Двенадцать остановок с навесами, табло прибытия и подогревом скамеек.",
        Category.TRANSPORT,
        VAO,
        "Вешняки",
        "",
        34,
        22,
        (1, 2, 4, 6, 4),
        (70, 100, 130),
        ("Остановка с табло прибытия",),
        closed=True,
    ),
]

COMMENTS = {
    1: ["Стало только хуже.", "Никто не спросил жителей.", "Деньги на ветер."],
    2: ["Ожидал большего.", "Сделано наспех, уже всё ломается."],
    3: ["Нормально, но есть недочёты.", "Посмотрим, как будет зимой."],
    4: ["Хорошо, пользуюсь каждый день.", "Стало удобнее, спасибо."],
    5: ["Отлично, давно ждали!", "Очень красиво и удобно.", "Спасибо городу!"],
}
FARM_COHORT = 6  # accounts created within one hour, all giving five stars to one novelty
COHORT_TARGET = "Парковка у метро «Аэропорт» стала платной"
BURST_EMAIL = f"bystryi.ocenshik{DEMO_DOMAIN}"


def demo_novelties_load() -> int:
    """Create the demo novelties that do not exist yet, with their photos and ratings;
    return how many were created."""
    existing = set(Novelty.objects.values_list("title", flat=True))
    missing = [demo for demo in DEMO_NOVELTIES if demo.title not in existing]
    if not missing:
        return 0
    rng = random.Random(SEED)  # noqa: S311 - demo data, not security
    now = timezone.now()
    raters = list(
        User.objects.filter(
            email__endswith=DEMO_DOMAIN, is_staff=False, home_building__isnull=False
        )
        .exclude(email__startswith="resident.")
        .select_related("home_building__district")
        .order_by("pk")
    )
    with transaction.atomic():
        created = {demo.title: _demo_novelty_create(demo, now, rng) for demo in missing}
        for demo in missing:
            _demo_ratings(created[demo.title], demo, raters, now, rng)
        _demo_farms(created, now, rng)
    return len(missing)


def _happened_on(demo: DemoNovelty, today: date) -> date:
    """Current-month novelties stay in this month (the ranking's default); closed ones are
    from before it."""
    first = today.replace(day=1)
    if demo.closed:
        return min(today - timedelta(days=demo.days_ago), first - timedelta(days=1))
    return max(today - timedelta(days=demo.days_ago), first)


def _demo_novelty_create(demo: DemoNovelty, now: datetime, rng: random.Random) -> Novelty:
    okrug = Okrug.objects.get(name=demo.okrug) if demo.okrug else None
    district = District.objects.get(name=demo.district) if demo.district else None
    building = _building(district, demo.address)
    published_at = now - timedelta(days=demo.days_ago)
    novelty = Novelty.objects.create(
        title=demo.title,
        description=demo.description,
        category=demo.category,
        okrug=okrug,
        district=district,
        building=building,
        address="" if building else demo.address,
        happened_on=_happened_on(demo, timezone.localdate(now)),
        rating_closes_at=now - timedelta(days=2) if demo.closed else now + timedelta(days=30),
        published_at=published_at,
        created_by=User.objects.filter(email=STAFF_EMAIL).first(),
    )
    for position, caption in enumerate(demo.photo_captions):
        NoveltyPhoto.objects.create(
            novelty=novelty,
            image=_demo_photo(demo.title, demo.colour, rng),
            alt_text=caption,
            position=position,
        )
    return novelty


def _building(district: District | None, address: str) -> Building | None:
    """The map's building when the address names one ("street, house") in the district."""
    if district is None or ", " not in address:
        return None
    street, house = address.rsplit(", ", 1)
    return Building.objects.filter(district=district, street=street, house=house).first()


def _demo_ratings(
    novelty: Novelty, demo: DemoNovelty, raters: list[User], now: datetime, rng: random.Random
) -> None:
    """``demo.raters`` residents (those of the novelty's okrug first) rate it at times
    spread between its publication and now (or its closing)."""
    local = [r for r in raters if novelty.okrug_id in (None, r.home_building.district.okrug_id)]
    others = [r for r in raters if r not in local]
    chosen = rng.sample(local, min(len(local), demo.raters * 2 // 3))
    chosen += rng.sample(others, min(len(others), demo.raters - len(chosen)))
    start = novelty.published_at
    end = min(now, novelty.rating_closes_at) - timedelta(minutes=5)
    for user in chosen:
        stars = rng.choices(range(1, 6), demo.stars)[0]
        comment = rng.choice(COMMENTS[stars]) if rng.random() < 0.3 else ""
        moment = start + (end - start) * rng.random()
        novelty_rate(user=user, novelty=novelty, stars=stars, comment=comment, now=moment)


def _demo_farms(created: dict[str, Novelty], now: datetime, rng: random.Random) -> None:
    """The two patterns the suspicious-ratings report finds."""
    buildings = list(Building.objects.order_by("pk").values_list("pk", flat=True)[:200])
    hour = (now - timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    cohort = _farm_accounts(
        [(f"novyi.{n}{DEMO_DOMAIN}", hour + timedelta(minutes=7 * n)) for n in range(FARM_COHORT)],
        buildings,
        rng,
    )
    target = created.get(COHORT_TARGET)
    if target is not None:
        for index, user in enumerate(cohort):
            moment = hour + timedelta(hours=1, minutes=3 * index)
            novelty_rate(user=user, novelty=target, stars=5, comment="", now=moment)
    (burster,) = _farm_accounts([(BURST_EMAIL, now - timedelta(hours=5))], buildings, rng)
    open_ones = [novelty for novelty in created.values() if novelty.rating_closes_at > now]
    start = now - timedelta(hours=4)
    for index, novelty in enumerate(open_ones):
        moment = start + timedelta(seconds=30 * index)
        novelty_rate(user=burster, novelty=novelty, stars=5, now=moment)


def _farm_accounts(accounts: list[tuple[str, datetime]], buildings: list[int], rng) -> list[User]:
    password = make_password(DEMO_PASSWORD)
    users = [
        User.objects.get_or_create(
            email=email,
            defaults={
                "password": password,
                "date_joined": joined,
                "home_building_id": rng.choice(buildings),
                "birth_year": rng.randint(1960, 2004),
                "gender": rng.choice(["female", "male", "undisclosed"]),
            },
        )[0]
        for email, joined in accounts
    ]
    EmailAddress.objects.bulk_create(
        [EmailAddress(user=user, email=user.email, verified=True, primary=True) for user in users],
        ignore_conflicts=True,
    )
    return users


def _demo_photo(title: str, colour: tuple[int, int, int], rng: random.Random) -> ContentFile:
    """A JPEG "photo": a sky-to-ground gradient in the novelty's colour, a few shapes, and
    the title in DejaVu Sans (it has Cyrillic)."""
    width, height = PHOTO_SIZE
    image = Image.new("RGB", PHOTO_SIZE)
    draw = ImageDraw.Draw(image)
    light = tuple(min(255, c + 120) for c in colour)
    for y in range(height):
        share = y / height
        draw.line(
            [(0, y), (width, y)],
            fill=tuple(int(a + (b - a) * share) for a, b in zip(light, colour, strict=True)),
        )
    for _shape in range(rng.randint(4, 8)):
        x, w = rng.randint(0, width - 120), rng.randint(60, 200)
        top = rng.randint(height // 3, height - 160)
        shade = tuple(max(0, c - rng.randint(30, 80)) for c in colour)
        draw.rectangle([x, top, x + w, height - 120], fill=shade)
    draw.ellipse([width - 170, 40, width - 70, 140], fill=(255, 236, 170))
    font = ImageFont.truetype(str(FONT), 38)
    lines = textwrap.wrap(title, width=40)
    for number, line in enumerate(lines):
        y = height - 30 - 48 * (len(lines) - number)
        draw.text((36, y), line, font=font, fill="white", stroke_width=3, stroke_fill="black")
    output = io.BytesIO()
    image.save(output, format="JPEG", quality=82, optimize=True)
    return ContentFile(output.getvalue(), name=f"demo-{rng.getrandbits(64):016x}.jpg")
