"""System checks of the polls app."""

from django.conf import settings
from django.core.checks import Error, Warning, register


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
    key = settings.BALLOT_LOG_SIGNING_KEY
    try:
        valid = len(bytes.fromhex(key)) == 32
    except ValueError:
        valid = False
    if valid:
        return []
    return [
        Error(
            "BALLOT_LOG_SIGNING_KEY is not 32 bytes in hex (64 characters 0-9, a-f).",
            id="polls.E001",
        )
    ]
