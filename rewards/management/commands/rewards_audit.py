from django.core.management.base import BaseCommand, CommandError

from rewards.selectors import wallet_mismatches


class Command(BaseCommand):
    help = "Check that every wallet equals the sum of its ledger entries; exit 1 if any differs."

    def handle(self, *args, **options):
        mismatches = wallet_mismatches()
        for m in mismatches:
            self.stderr.write(
                f"user {m.user_id}: wallet balance {m.balance} != ledger {m.ledger_balance}, "
                f"lifetime {m.lifetime} != ledger {m.ledger_lifetime}"
            )
        if mismatches:
            raise CommandError(f"{len(mismatches)} wallets differ from their ledger.")
        self.stdout.write("All wallets equal the sum of their ledger entries.")
