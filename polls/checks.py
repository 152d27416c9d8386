"""System checks of the polls app."""

from django.conf import settings
from django.core.checks import Warning, register


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
