"""System checks of the polls app."""

from django.conf import settings
from django.core.checks import Error, Warning, register

from polls.escrow import audit_key_problem


@register(deploy=True)
def ballot_log_key_check(app_configs, **kwargs):
    """The demo signing key is public: a deployment signing with it proves nothing."""
    if settings.BALLOT_LOG_SIGNING_KEY == settings.DEMO_BALLOT_LOG_KEY:
        return [
            Warning(
                "The ballot log is signed with the public demo key.",
                hint="Set BALLOT_LOG_SIGNING_KEY to 32 random bytes in hex and publish its "
                "public key (shown at /ballot-log/key/).",
                id="polls.W001",
            )
        ]
    return []


@register()
def ballot_log_key_format_check(app_configs, **kwargs):
    """A malformed key would fail every checkpoint and every log page: refuse to start."""
    if audit_key_problem(settings.BALLOT_LOG_SIGNING_KEY) is None:  # also 32 bytes in hex
        return []
    return [
        Error(
            "BALLOT_LOG_SIGNING_KEY is not 32 bytes in hex (64 characters 0-9, a-f).",
            id="polls.E001",
        )
    ]


@register(deploy=True)
def ballot_audit_key_check(app_configs, **kwargs):
    """The demo audit key's private half is public: anyone could unseal receipts."""
    if settings.BALLOT_AUDIT_PUBLIC_KEY.lower() == settings.DEMO_BALLOT_AUDIT_PUBLIC_KEY:
        return [
            Warning(
                "Receipts are sealed to the public demo audit key: anyone can link "
                "participations to ballots.",
                hint="Have the election commission make a key pair offline (see the README) "
                "and set BALLOT_AUDIT_PUBLIC_KEY to its public half.",
                id="polls.W002",
            )
        ]
    return []


@register()
def ballot_audit_key_format_check(app_configs, **kwargs):
    """A malformed audit key would fail every vote: refuse to start."""
    problem = audit_key_problem(settings.BALLOT_AUDIT_PUBLIC_KEY)
    if problem is None:
        return []
    return [
        Error(
            f"BALLOT_AUDIT_PUBLIC_KEY is not usable: {problem} (64 hex digits are expected).",
            id="polls.E002",
        )
    ]
