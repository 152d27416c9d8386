"""Demo polls for `make demo`: open, upcoming and closed polls, with ballots cast through the
real voting service by the demo residents; and in three buildings with verified residents
(accounts/demo.py) an open and a closed building survey each, made by the real survey
service; and decisions, with their history, after the closed polls. Loading twice changes
nothing."""

import random
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.demo import DEMO_DOMAIN
from accounts.groups import CITY_ADMINS
from accounts.models import Notification, User
from civic.models import Okrug
from polls.models import (
    Decision,
    DecisionStatus,
    Option,
    Poll,
    PollStatus,
    Question,
    QuestionKind,
    ResultsVisibility,
    Scope,
    VoteUnit,
)
from polls.selectors import poll_with_questions
from polls.serializers import SurveyInputSerializer
from polls.services import (
    NON_ANSWERS,
    DecisionStep,
    ballot_cast,
    decision_announce,
    decision_record,
    decision_update,
    poll_results_publish,
    poll_tally,
    polls_close_due,
    polls_due_for_final_tally,
    polls_live_open,
    polls_open_due,
    survey_create,
)
from polls.validation import AnswerInput

SEED = 2026


@dataclass
class DemoQuestion:
    text: str
    kind: str
    options: list[str] = field(default_factory=list)
    settings: dict = field(default_factory=dict)
    non_answers: bool = False


@dataclass
class DemoPoll:
    title: str
    description: str
    questions: list[DemoQuestion]
    starts_in_days: int
    lasts_days: int
    voters: int
    okrug: str | None = None
    visibility: str = ResultsVisibility.AFTER_CLOSE
    points: int = 20


DEMO_POLLS = [
    DemoPoll(
        title="Каким должен стать парк у вашего дома?",
        description=(
            "Город благоустраивает парки в 2027 году. Расскажите, что для вас важнее всего.\n\n"
            "Итоги учтут при подготовке проектов: https://example.org/parks"
        ),
        starts_in_days=-5,
        lasts_days=30,
        voters=260,
        visibility=ResultsVisibility.LIVE,
        questions=[
            DemoQuestion(
                "Что в парке вам нужнее всего?",
                QuestionKind.SINGLE,
                ["Детская площадка", "Спортивная площадка", "Тихая зона отдыха", "Другое"],
                non_answers=True,
            ),
            DemoQuestion(
                "Какие занятия вы хотели бы видеть в парке? Выберите до трёх.",
                QuestionKind.MULTIPLE,
                ["Йога", "Бег", "Шахматы", "Лекции", "Кино под открытым небом", "Танцы"],
                {"min_choices": 1, "max_choices": 3},
            ),
            DemoQuestion(
                "Как вы оцениваете парки своего района сейчас?",
                QuestionKind.SCALE,
                settings={"scale_min_label": "Очень плохо", "scale_max_label": "Отлично"},
            ),
            DemoQuestion(
                "Ваши пожелания",
                QuestionKind.TEXT,
                settings={"required": False, "max_length": 500},
            ),
        ],
    ),
    DemoPoll(
        title="Транспорт Центрального округа: что улучшить первым?",
        description="Опрос для жителей ЦАО. Расставьте приоритеты и оцените транспорт.",
        okrug="Центральный административный округ",
        starts_in_days=-2,
        lasts_days=14,
        voters=80,
        questions=[
            DemoQuestion(
                "Расставьте три главных приоритета",
                QuestionKind.RANKING,
                ["Выделенные полосы", "Велодорожки", "Парковки", "Тротуары", "Остановки"],
                {"max_choices": 3},
            ),
            DemoQuestion(
                "Оцените транспорт",
                QuestionKind.MATRIX,
                ["Метро", "Автобусы", "Трамваи"],
                {"scale_min": 1, "scale_max": 5},
            ),
        ],
    ),
    DemoPoll(
        title="Новогодние ярмарки: где их провести?",
        description="Голосование откроется через три дня.",
        starts_in_days=3,
        lasts_days=10,
        voters=0,
        questions=[
            DemoQuestion(
                "Где провести ярмарку?",
                QuestionKind.SINGLE,
                ["На главной площади района", "В парке", "У станции метро"],
            )
        ],
    ),
    DemoPoll(
        title="Часы работы библиотек",
        description="Опрос завершён, итоги опубликованы.",
        starts_in_days=-20,
        lasts_days=18,
        voters=220,
        points=10,
        questions=[
            DemoQuestion(
                "Когда вам удобнее ходить в библиотеку?",
                QuestionKind.SINGLE,
                ["Утром", "Днём", "Вечером", "В выходные"],
                non_answers=True,
            ),
            DemoQuestion(
                "Нужны ли библиотекам коворкинги?",
                QuestionKind.SINGLE,
                ["Да", "Нет"],
            ),
        ],
    ),
    DemoPoll(
        title="Дворы Южного округа: что благоустроить первым?",
        description="Опрос для жителей ЮАО завершён; решения по его итогам — на странице итогов.",
        okrug="Южный административный округ",
        starts_in_days=-130,
        lasts_days=28,
        voters=90,
        questions=[
            DemoQuestion(
                "Что во дворе нужно благоустроить в первую очередь?",
                QuestionKind.SINGLE,
                ["Освещение", "Детская площадка", "Парковка", "Озеленение"],
                non_answers=True,
            ),
        ],
    ),
]


@dataclass
class DemoSurvey:
    """A building survey; its building is the author's verified home."""

    author: str
    title: str
    description: str
    questions: list[DemoQuestion]
    starts_in_days: int
    lasts_days: int
    voters: int
    vote_unit: str = VoteUnit.RESIDENT
    open_ballot: bool = False
    quorum_percent: int | None = None


DEMO_SURVEYS = [
    DemoSurvey(  # Комсомольский проспект, 4/14: the building of the main demo login
        author=f"sergey.morozov{DEMO_DOMAIN}",
        title="Ставить ли шлагбаум во дворе?",
        description=(
            "Во двор заезжают чужие машины, жильцам негде встать. Один голос от квартиры; "
            "решение примем, если проголосуют хотя бы 10% квартир."
        ),
        starts_in_days=-24,
        lasts_days=14,
        voters=8,
        vote_unit=VoteUnit.APARTMENT,
        quorum_percent=10,
        questions=[
            DemoQuestion(
                "Ставить ли шлагбаум на въезде во двор?",
                QuestionKind.SINGLE,
                ["Да", "Нет"],
                non_answers=True,
            ),
            DemoQuestion(
                "Как оплатить установку?",
                QuestionKind.SINGLE,
                ["Поровну со всех квартир", "Только автовладельцы", "Попросить помощи у управы"],
            ),
        ],
    ),
    DemoSurvey(
        author=f"ekaterina.lebedeva{DEMO_DOMAIN}",
        title="Когда удобнее провести субботник?",
        description="Открытое голосование: соседи видят, кто как ответил.",
        starts_in_days=-2,
        lasts_days=12,
        voters=5,
        open_ballot=True,
        questions=[
            DemoQuestion(
                "Какой день удобнее?",
                QuestionKind.SINGLE,
                ["Суббота, 10:00", "Суббота, 14:00", "Воскресенье, 11:00"],
            ),
            DemoQuestion(
                "Что сделать в первую очередь? Выберите до двух.",
                QuestionKind.MULTIPLE,
                ["Убрать листья", "Покрасить скамейки", "Посадить цветы", "Вымыть окна в подъезде"],
                {"max_choices": 2},
            ),
        ],
    ),
    DemoSurvey(  # улица Большая Полянка, 10
        author=f"dmitriy.fedorov{DEMO_DOMAIN}",
        title="Нужен ли домофон с видеокамерой?",
        description="Управляющая компания предлагает заменить домофон. Нужна половина квартир.",
        starts_in_days=-30,
        lasts_days=20,
        voters=6,
        quorum_percent=50,
        questions=[
            DemoQuestion(
                "Менять ли домофон на новый, с камерой?", QuestionKind.SINGLE, ["Да", "Нет"]
            ),
            DemoQuestion("Как вы оцениваете нынешний домофон?", QuestionKind.SCALE),
        ],
    ),
    DemoSurvey(
        author=f"tatyana.egorova{DEMO_DOMAIN}",
        title="Какие цветы посадить у подъезда?",
        description="Один голос от квартиры. Посадим весной, если проголосует четверть квартир.",
        starts_in_days=-1,
        lasts_days=14,
        voters=3,
        vote_unit=VoteUnit.APARTMENT,
        quorum_percent=25,
        questions=[
            DemoQuestion(
                "Выберите до двух",
                QuestionKind.MULTIPLE,
                ["Тюльпаны", "Петунии", "Бархатцы", "Розы"],
                {"max_choices": 2},
            ),
        ],
    ),
    DemoSurvey(  # улица Генерала Тюленева, 2
        author=f"lyudmila.belova{DEMO_DOMAIN}",
        title="Куда поставить велопарковку?",
        description="Управа поставит одну велопарковку на 10 мест.",
        starts_in_days=-40,
        lasts_days=14,
        voters=7,
        questions=[
            DemoQuestion(
                "Где она нужнее?",
                QuestionKind.SINGLE,
                ["У первого подъезда", "У детской площадки", "Возле гаражей"],
            ),
        ],
    ),
    DemoSurvey(
        author=f"roman.kiselev{DEMO_DOMAIN}",
        title="Ремонт детской площадки: что важнее?",
        description="Расставьте два главных пожелания; итоги покажем после закрытия.",
        starts_in_days=-4,
        lasts_days=21,
        voters=4,
        questions=[
            DemoQuestion(
                "Что сделать первым?",
                QuestionKind.RANKING,
                ["Мягкое покрытие", "Новые качели", "Горка", "Песочница с навесом"],
                {"max_choices": 2},
            ),
        ],
    ),
]


def demo_polls_load() -> int:
    """Create the demo polls and building surveys that do not exist yet (verifying the
    demo buildings' residents first); return how many were created."""
    existing = set(
        Poll.objects.filter(title__in=[p.title for p in DEMO_POLLS]).values_list("title", flat=True)
    )
    rng = random.Random(SEED)  # noqa: S311 - demo data, not security
    created = 0
    for demo in DEMO_POLLS:
        if demo.title in existing:
            continue
        _demo_poll_create(demo, rng)
        created += 1
    created += _demo_surveys_load()
    _demo_count()
    return created


def _demo_count() -> None:
    """Do at once what beat does every minute, so the demo shows results from the start.
    The closed poll's announcement counts as sent long ago: no burst of emails."""
    polls_open_due()
    polls_close_due()
    for poll_id in polls_due_for_final_tally():
        poll_tally(poll_id=poll_id, final=True)
        poll_results_publish(poll_id=poll_id)
        Notification.objects.filter(key=f"poll:{poll_id}:results").update(emailed_at=timezone.now())
    for poll_id in polls_live_open():
        poll_tally(poll_id=poll_id, final=False)


def _demo_poll_create(demo: DemoPoll, rng: random.Random) -> None:
    now = timezone.now()
    opens_at = now + timedelta(days=demo.starts_in_days)
    closes_at = opens_at + timedelta(days=demo.lasts_days)
    closed_already = closes_at <= now
    with transaction.atomic():
        poll = Poll.objects.create(
            title=demo.title,
            description=demo.description,
            status=PollStatus.PUBLISHED,
            scope=Scope.AREAS if demo.okrug else Scope.CITY,
            opens_at=opens_at,
            closes_at=now + timedelta(days=1) if closed_already else closes_at,
            points=demo.points,
            results_visibility=demo.visibility,
        )
        if demo.okrug:
            poll.okrugs.set(Okrug.objects.filter(name=demo.okrug))
        for position, question in enumerate(demo.questions, start=1):
            _demo_question_create(poll, position, question)
        _demo_votes(poll, demo, rng)
        if closed_already:  # cast while open, then moved into the past: a closed poll
            Poll.objects.filter(pk=poll.pk).update(closes_at=closes_at)


def _demo_question_create(poll: Poll, position: int, demo: DemoQuestion) -> None:
    question = Question.objects.create(
        poll=poll, position=position, text=demo.text, kind=demo.kind, **demo.settings
    )
    texts = [*demo.options, *(NON_ANSWERS if demo.non_answers else ())]
    Option.objects.bulk_create(
        Option(
            question=question,
            position=index,
            text=text,
            is_other=text == "Другое",
            is_non_answer=text in NON_ANSWERS,
        )
        for index, text in enumerate(texts, start=1)
    )


def _demo_votes(poll: Poll, demo: DemoPoll, rng: random.Random) -> None:
    if not demo.voters:
        return
    voters = User.objects.filter(is_staff=False, email__endswith="@demo.civic.local")
    if demo.okrug:
        voters = voters.filter(home_building__district__okrug__name=demo.okrug)
    full_poll = poll_with_questions(poll_id=poll.pk)
    questions = list(full_poll.questions.all())
    for voter in voters.select_related("home_building__district").order_by("pk")[: demo.voters]:
        answers = [_demo_answer(question, rng) for question in questions]
        ballot_cast(user=voter, poll=full_poll, answers=[a for a in answers if a])


def _demo_answer(question: Question, rng: random.Random) -> AnswerInput | None:
    options = [option for option in question.options.all() if not option.is_non_answer]
    weights = [len(options) - index for index in range(len(options))]  # earlier options win
    if question.kind == QuestionKind.SINGLE:
        option = rng.choices(options, weights)[0]
        other = "Площадка для собак" if option.is_other else ""
        return AnswerInput(question.pk, (option.pk,), other_text=other)
    if question.kind == QuestionKind.MULTIPLE:
        picked = rng.sample(options, rng.randint(1, question.max_choices or len(options)))
        return AnswerInput(
            question.pk, tuple(option.pk for option in picked if not option.is_other)
        )
    if question.kind == QuestionKind.SCALE:
        return AnswerInput(
            question.pk, value=rng.choices(question.scale_values, [1, 1, 2, 4, 3])[0]
        )
    if question.kind == QuestionKind.RANKING:
        order = rng.sample(options, len(options))[: question.max_choices or len(options)]
        return AnswerInput(question.pk, tuple(option.pk for option in order))
    if question.kind == QuestionKind.MATRIX:
        return AnswerInput(
            question.pk, rows={o.pk: rng.choice(question.scale_values) for o in options}
        )
    if rng.random() < 0.2:
        return AnswerInput(question.pk, text=rng.choice(["Больше скамеек", "Освещение вечером"]))
    return None


def _demo_surveys_load() -> int:
    """Create the demo surveys that their authors have not created yet; return how many."""
    existing = set(
        Poll.objects.filter(
            scope=Scope.BUILDING, created_by__email__endswith=DEMO_DOMAIN
        ).values_list("created_by__email", "title")
    )
    rng = random.Random(SEED)  # noqa: S311 - demo data, not security
    missing = [demo for demo in DEMO_SURVEYS if (demo.author, demo.title) not in existing]
    for demo in missing:
        _demo_survey_create(demo, rng)
    return len(missing)


def _demo_survey_create(demo: DemoSurvey, rng: random.Random) -> None:
    """Created now through the survey service (which refuses past dates), voted, then moved
    to its dates: into the past for a closed survey, which ``_demo_count`` then closes,
    tallies and publishes like any other. Announcements count as emailed long ago."""
    now = timezone.now()
    opens_at = now + timedelta(days=demo.starts_in_days)
    closes_at = opens_at + timedelta(days=demo.lasts_days)
    body = SurveyInputSerializer(
        data={
            "title": demo.title,
            "description": demo.description,
            "closes_at": max(closes_at, now + timedelta(days=1)),
            "vote_unit": demo.vote_unit,
            "open_ballot": demo.open_ballot,
            "quorum_percent": demo.quorum_percent,
            "questions": [_demo_survey_question(question) for question in demo.questions],
        }
    )
    body.is_valid(raise_exception=True)
    with transaction.atomic():
        poll = survey_create(
            author=User.objects.get(email=demo.author), data=dict(body.validated_data)
        )
        _demo_survey_votes(poll, demo, rng, closed=closes_at <= now)
        Poll.objects.filter(pk=poll.pk).update(opens_at=opens_at, closes_at=closes_at)
        Notification.objects.filter(key=f"poll:{poll.pk}:new").update(emailed_at=now)


def _demo_survey_question(demo: DemoQuestion) -> dict:
    texts = [*demo.options, *(NON_ANSWERS if demo.non_answers else ())]
    return {
        "text": demo.text,
        "kind": demo.kind,
        **demo.settings,
        "options": [{"text": text, "is_non_answer": text in NON_ANSWERS} for text in texts],
    }


def _demo_survey_votes(poll: Poll, demo: DemoSurvey, rng: random.Random, *, closed: bool) -> None:
    """The first verified residents vote, one per apartment where that is the rule. The
    printed demo logins leave open surveys alone: that vote is for whoever tries the demo."""
    voters = User.objects.filter(verified_building_id=poll.building_id, is_active=True)
    if not closed:
        voters = voters.exclude(email__startswith="resident.")
    full_poll = poll_with_questions(poll_id=poll.pk)
    questions = list(full_poll.questions.all())
    apartments: set[str] = set()
    cast = 0
    for voter in voters.select_related("home_building__district").order_by("pk"):
        if cast == demo.voters:
            break
        if full_poll.per_apartment and voter.verified_apartment in apartments:
            continue
        answers = [_demo_answer(question, rng) for question in questions]
        ballot_cast(user=voter, poll=full_poll, answers=[a for a in answers if a])
        apartments.add(voter.verified_apartment)
        cast += 1


# --- decisions taken after the closed demo polls ------------------------------------------------


@dataclass
class DemoDecision:
    """A decision after a closed demo poll and its history: (days ago, status, note) steps,
    the first of which is the decision itself."""

    poll: str
    text: str
    responsible_body: str
    steps: list[tuple[int, str, str]]


LIBRARIES = "Часы работы библиотек"
YARDS = "Дворы Южного округа: что благоустроить первым?"
DEMO_DECISIONS = [
    DemoDecision(
        LIBRARIES,
        "Продлить работу районных библиотек по будням до 22:00.",
        "Департамент культуры",
        [
            (2, DecisionStatus.PLANNED, ""),
            (1, DecisionStatus.IN_PROGRESS, "Утверждён новый график, набирается вечерняя смена."),
            (0, DecisionStatus.DONE, "С понедельника 120 библиотек работают до 22:00."),
        ],
    ),
    DemoDecision(
        LIBRARIES,
        "Открыть коворкинги в 20 библиотеках.",
        "Департамент культуры",
        [
            (2, DecisionStatus.PLANNED, ""),
            (0, DecisionStatus.IN_PROGRESS, "Закуплена мебель для первых восьми библиотек."),
        ],
    ),
    DemoDecision(
        LIBRARIES,
        "Открывать библиотеки в выходные с 8:00.",
        "Департамент культуры",
        [
            (
                1,
                DecisionStatus.DECLINED,
                "Утром в выходные приходит меньше 3% читателей: часы продлены вечером.",
            ),
        ],
    ),
    DemoDecision(
        YARDS,
        "Заменить освещение в 40 дворах округа.",
        "Префектура Южного административного округа",
        [
            (95, DecisionStatus.PLANNED, "Адреса — дворы, где за освещение голосовали чаще."),
            (60, DecisionStatus.IN_PROGRESS, "Подрядчик выбран на открытых торгах."),
            (14, DecisionStatus.DONE, "Новые фонари горят во всех 40 дворах."),
        ],
    ),
    DemoDecision(
        YARDS,
        "Обновить 25 детских площадок.",
        "Префектура Южного административного округа",
        [
            (95, DecisionStatus.PLANNED, ""),
            (30, DecisionStatus.IN_PROGRESS, "Работы идут в 12 дворах."),
        ],
    ),
    DemoDecision(
        YARDS,
        "Построить перехватывающую парковку у станции метро «Южная».",
        "Департамент транспорта",
        [(90, DecisionStatus.PLANNED, "Проект — в 2027 году.")],
    ),
]


def demo_decisions_load() -> int:
    """Record the demo decisions after the closed demo polls that have none yet, with their
    history, through the services (as the demo city admin), and tell the polls'
    participants (counted as emailed long ago). Return how many were recorded."""
    polls = {
        poll.title: poll
        for poll in Poll.objects.filter(
            title__in={demo.poll for demo in DEMO_DECISIONS}, decisions__isnull=True
        )
    }
    admin = User.objects.filter(groups__name=CITY_ADMINS).order_by("pk").first()
    today = timezone.localdate()
    recorded = [
        _demo_decision_record(demo, polls[demo.poll], admin, today)
        for demo in DEMO_DECISIONS
        if demo.poll in polls
    ]
    for decision in recorded:
        while decision_announce(decision_id=decision.pk):
            pass
        Notification.objects.filter(key__startswith=f"decision:{decision.pk}:").update(
            emailed_at=timezone.now()
        )
    return len(recorded)


def _demo_decision_record(demo: DemoDecision, poll: Poll, admin: User | None, today) -> Decision:
    (days_ago, status, note), *later = demo.steps
    decision = decision_record(
        poll=poll,
        text=demo.text,
        responsible_body=demo.responsible_body,
        step=DecisionStep(status=status, on=today - timedelta(days=days_ago), note=note),
        recorded_by=admin,
    )
    for days_ago, status, note in later:
        step = DecisionStep(status=status, on=today - timedelta(days=days_ago), note=note)
        decision_update(decision=decision, step=step, updated_by=admin)
    return decision
