"""The demo rewards catalogue, and a welcome bonus for the printed demo logins so the shop
(opened by the "Активный гражданин" status at 1,000 points) can be tried at once."""

from accounts.models import User
from rewards.models import CategoryLimit, Reward
from rewards.services import points_adjust

DEMO_BONUS = 1500
DEMO_REWARDS = [
    ("Билет в Театр на Таганке", "theatre", 1200, 20, 1, False),
    ("Входной билет в Музей Москвы", "museum", 400, None, 2, False),
    ("Час парковки в центре", "parking", 200, None, None, False),
    ("Пополнение карты «Тройка» на 100 ₽", "transport", 500, 200, 3, False),
    ("Кружка «Активный гражданин»", "souvenir", 800, 50, 1, False),
    ("Помощь приюту для животных", "charity", 100, None, None, True),
]


def demo_rewards_load() -> int:
    """Create the missing demo rewards; credit the demo bonus once. Returns rewards created."""
    existing = set(Reward.objects.values_list("title", flat=True))
    created = [
        Reward.objects.create(
            title=title,
            category=category,
            cost=cost,
            stock=stock,
            per_resident_limit=limit,
            is_donation=donation,
        )
        for title, category, cost, stock, limit, donation in DEMO_REWARDS
        if title not in existing
    ]
    CategoryLimit.objects.get_or_create(category="parking", defaults={"points_per_month": 1000})
    demo_logins = User.objects.filter(
        email__startswith="resident.", email__endswith="@demo.civic.local"
    )
    for user_id in demo_logins.values_list("pk", flat=True):
        points_adjust(user_id=user_id, amount=DEMO_BONUS, comment="Демо-бонус", key="demo:bonus")
    return len(created)
