"""The API's session tokens (allauth headless, ``X-Session-Token``)."""

from allauth.headless.internal import sessionkit
from allauth.headless.tokens.strategies.sessions import SessionTokenStrategy


class OneQuerySessionTokenStrategy(SessionTokenStrategy):
    """allauth's session tokens, looked up with one query instead of two (an existence
    check, then the load): every API request of an app pays it (bench/vote_load.py).
    A missing or expired session still gives None."""

    def lookup_session(self, session_token: str):
        return sessionkit.lookup_session(session_token)
