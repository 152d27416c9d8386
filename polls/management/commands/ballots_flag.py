"""The election commission flags the ballots of suspended accounts (docs/decisions/0009).

    python manage.py ballots_flag --private-key-file /media/commission/audit.key [--poll 12]

Run on a trusted machine that reaches the database; the private key never has to be on
the web servers. It prints counts per poll only, never which account cast which ballot.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from polls.escrow import EscrowError, audit_private_key, ballots_flag


class Command(BaseCommand):
    help = (
        "Open the sealed receipts of suspended accounts' participations with the audit "
        "private key and record which ballots they cast, so a recount can leave them out."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--private-key-file",
            required=True,
            type=Path,
            help="File holding the audit private key: 64 hex digits.",
        )
        parser.add_argument(
            "--poll", type=int, action="append", dest="polls", help="Only this poll (repeatable)."
        )
        parser.add_argument("--note", default="", help="Kept with each flagging (300 characters).")

    def handle(self, *args, private_key_file: Path, polls, note: str, **options):
        try:
            key = audit_private_key(private_key_file.read_text(encoding="ascii"))
            outcomes = ballots_flag(private_key=key, poll_ids=polls, note=note)
        except OSError as error:
            raise CommandError(f"Cannot read the private key file: {error}") from error
        except (EscrowError, UnicodeDecodeError) as error:
            raise CommandError(str(error)) from error
        if not outcomes:
            self.stdout.write(
                "No participation of a suspended account, and nothing flagged before."
            )
        for outcome in outcomes:
            done = f"flagging #{outcome.run.pk}" if outcome.run else "unchanged, no new flagging"
            self.stdout.write(
                f"poll {outcome.poll_id}: {outcome.suspended_participations} participations of "
                f"suspended accounts, {outcome.flagged} ballots flagged, {outcome.unlinked} not "
                f"linkable ({done})"
            )
