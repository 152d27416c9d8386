"""The API's session tokens (allauth headless, ``X-Session-Token``), and the signed-in
resident behind one, read in two short statements: the session, then the user with all that
a request asks of them (home, confirmed address, two-factor state).

Every request of an app pays for this (bench/vote_load.py), so neither statement is built
by the ORM each time: the session's is plain SQL, the user's is built once per process
(``civic.precompiled``) from the same definitions as ``users_with_mfa_state`` and
``with_email_verified``.
"""

from allauth.core.internal.sessionkit import get_session_user
from allauth.headless.internal import sessionkit
from allauth.headless.tokens.strategies.sessions import SessionTokenStrategy
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, load_backend
from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.backends.base import SessionBase
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from accounts.mfa import users_with_mfa_state
from accounts.models import User, email_verified_exists
from civic.precompiled import RowByKey

DB_SESSIONS = "django.contrib.sessions.backends.db"
SESSION_SQL = (
    f"SELECT session_data FROM {Session._meta.db_table} "  # noqa: S608 (a table name)
    "WHERE session_key = %s AND expire_date > %s"
)


class OneQuerySessionTokenStrategy(SessionTokenStrategy):
    """allauth's session tokens, looked up with one plain statement instead of an existence
    check and then a load. A missing or expired session gives None; corrupted data an empty
    session, as Django's own load gives."""

    def lookup_session(self, session_token: str) -> SessionBase | None:
        if settings.SESSION_ENGINE != DB_SESSIONS:
            return sessionkit.lookup_session(session_token)
        with connection.cursor() as cursor:
            cursor.execute(SESSION_SQL, [session_token, timezone.now()])
            row = cursor.fetchone()
        if row is None:
            return None
        session = sessionkit.session_store(session_token)
        session._session_cache = session.decode(row[0])  # as SessionStore.load leaves it
        return session


def session_resident(session: SessionBase) -> User | None:
    """The active user signed in to ``session``, with their home, ``email_verified``,
    ``in_staff_group`` and ``has_authenticator``; None if the session signs nobody in.

    The common case — a backend that reads users as Django's ModelBackend does, and the
    session's hash of the password matching — is decided here with one statement; anything
    else (an older secret key's hash, an unknown backend...) is left to Django's
    ``get_user``, which decides it as for any session.
    """
    user = _resident_of(session)
    return user if user is not None else get_session_user(session)


def _resident_of(session: SessionBase) -> User | None:
    try:
        user_id = User._meta.pk.to_python(session[SESSION_KEY])
        backend_path = session[BACKEND_SESSION_KEY]
    except (KeyError, ValidationError):
        return None
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return None
    backend = load_backend(backend_path)
    if not isinstance(backend, ModelBackend):
        return None
    user = resident_by_id(user_id=user_id)
    if user is None or not backend.user_can_authenticate(user):
        return None
    session_hash = session.get(HASH_SESSION_KEY)
    if not session_hash or not constant_time_compare(session_hash, user.get_session_auth_hash()):
        return None
    return user


def _residents():
    # users_with_mfa_state() and User.objects.with_email_verified() together
    return users_with_mfa_state().annotate(email_verified=email_verified_exists())


RESIDENTS = RowByKey(
    _residents,
    related=("home_building", "home_building__district", "home_building__district__okrug"),
    annotations=("email_verified", "in_staff_group", "has_authenticator"),
)


def resident_by_id(*, user_id: int) -> User | None:
    """The user with ``home_building.district.okrug`` loaded and the three annotations of
    ``session_resident`` set; None if there is no such user. One statement, built once."""
    return RESIDENTS.get(user_id)
