from django.core.management.base import BaseCommand

from accounts.demo import demo_residency_load
from civic.demo import demo_city_load, demo_residents_load, demo_staff_ensure
from discussions.demo import demo_discussions_load
from novelties.demo import demo_novelties_load
from polls.demo import demo_decisions_load, demo_polls_load
from rewards.demo import demo_rewards_load


class Command(BaseCommand):
    help = (
        "Load the demo city (demo/city.csv), its residents and the demo staff logins. Idempotent."
    )

    def handle(self, *args, **options):
        city = demo_city_load()
        residents = demo_residents_load()
        demo_staff_ensure()
        verified = demo_residency_load()
        polls = demo_polls_load()
        decisions = demo_decisions_load()
        rewards = demo_rewards_load()
        novelties = demo_novelties_load()
        discussions = demo_discussions_load()
        self.stdout.write(
            f"demo city: {city.buildings_created} buildings created, "
            f"{city.buildings_unchanged} already there; {residents} residents created, "
            f"{verified} verified in their buildings; {polls} polls and surveys and "
            f"{rewards} rewards created; {decisions} decisions recorded after polls; "
            f"{novelties} city novelties created; {discussions} public discussions created"
        )
