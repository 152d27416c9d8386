"""Run the whole platform for a demo: migrate, load the demo city, then web + worker + beat.

The embedded PostgreSQL and Redis are started by this process (via settings) before the
children start, so the children join them; Ctrl-C stops the children, then the servers.
"""

import os
import signal
import subprocess
import sys
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand

from civic.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET, demo_logins

CHILD_STOP_TIMEOUT = 10


class Command(BaseCommand):
    help = "Run the demo: web server, Celery worker and beat, with the demo city loaded."

    def add_arguments(self, parser):
        parser.add_argument("--address", default=os.environ.get("DEMO_ADDRESS", "127.0.0.1:8000"))

    def handle(self, *args, address: str, **options):
        # Stop on SIGTERM as on Ctrl-C: the children are stopped, then the embedded servers.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        call_command("migrate", interactive=False, verbosity=0)
        call_command("load_demo")
        children = self._start_children(address)
        self._print_welcome(address)
        self._wait(children)

    def _start_children(self, address: str) -> dict[str, subprocess.Popen]:
        python = sys.executable
        commands = {
            "web": [python, "manage.py", "runserver", address, "--noreload"],
            "worker": [python, "-m", "celery", "-A", "civic", "worker", "-l", "INFO", "-c", "2"],
            "beat": [python, "-m", "celery", "-A", "civic", "beat", "-l", "INFO"],
        }
        return {name: subprocess.Popen(command) for name, command in commands.items()}  # noqa: S603

    def _print_welcome(self, address: str) -> None:
        lines = [
            "",
            f"Civic demo: http://{address}/  (admin: http://{address}/admin/)",
            f"Every demo login has the password: {DEMO_PASSWORD}",
            *(f"  {login.role:<22} {login.email:<38} {login.place}" for login in demo_logins()),
            f"Staff sign in with a second factor: add the secret {DEMO_TOTP_SECRET} to an",
            "authenticator app (or run: oathtool --totp -b <secret>) and enter its code.",
            "Press Ctrl-C to stop the web server, the worker and beat.",
            "",
        ]
        self.stdout.write("\n".join(lines))

    def _wait(self, children: dict[str, subprocess.Popen]) -> None:
        try:
            while all(child.poll() is None for child in children.values()):
                time.sleep(0.5)
            stopped = [name for name, child in children.items() if child.poll() is not None]
            self.stderr.write(f"{', '.join(stopped)} stopped; stopping the demo.")
        except KeyboardInterrupt:
            self.stdout.write("Stopping…")
        finally:
            for child in children.values():
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            for child in children.values():
                try:
                    child.wait(timeout=CHILD_STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    child.kill()
