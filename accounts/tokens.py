"""Sessions of the app: the JWTs a sign-in gives, and how they stop working at once.

A sign-in starts a session: its refresh token carries a session id (`sid`) and the user's
token generation (`gen`), and every access token made from it (or from its rotations) copies
both. An access token is refused, whatever its expiry says, when
- its generation is older than the user's: a password reset (or a password an administrator
  sets), "log out everywhere" or the deletion of the account moves the generation on, ending
  every session of the user (the user row is read on every request anyway: this costs
  nothing);
- its session was ended by a logout: the session id is kept in the cache, for as long as an
  access token lives, and the refresh token is blacklisted (one cache read per request).
While Redis is away, logouts of one session are not seen until the access token expires
(JWT_ACCESS_MINUTES); the generation, in the database, always is.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any, cast

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.tokens import RefreshToken, Token, UntypedToken

from accounts.models import User

SESSION_CLAIM = "sid"
GENERATION_CLAIM = "gen"

# Longer than any token this service signs (the logout input's limit too).
MAX_TOKEN_LENGTH = 2000

SESSION_ENDED = _("This session has ended: sign in again.")


def session_tokens(user: User) -> RefreshToken:
    """The refresh token of a new session of `user` (its access token: `.access_token`)."""
    token = RefreshToken.for_user(user)
    token[SESSION_CLAIM] = uuid.uuid4().hex
    token[GENERATION_CLAIM] = user.token_generation
    return token


def _ended_key(session: str) -> str:
    return f"accounts:session-ended:{session}"


def session_end(token: Token) -> None:
    """Mark the token's session ended, for as long as its access tokens can live."""
    session = token.get(SESSION_CLAIM)
    if isinstance(session, str) and session:
        lifetime = cast(timedelta, settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"])
        seconds = int(lifetime.total_seconds()) + 60
        cache.set(_ended_key(session), True, seconds)


def refresh_token_user(raw: object) -> str | None:
    """The user id a refresh token names, if it is one this service signed and it has not
    expired (whether it was revoked is the serializer's to check)."""
    if not isinstance(raw, str) or len(raw) > MAX_TOKEN_LENGTH:
        return None
    try:
        token = UntypedToken(raw)  # type: ignore[arg-type]  # a string is what it decodes
    except TokenError:
        return None
    if token.get("token_type") != "refresh":
        return None
    user_id = token.get("user_id")
    return str(user_id) if user_id is not None else None


def token_is_current(token: Token, user: User) -> bool:
    """Whether a token of `user` still works: its generation is the user's, and its session
    was not ended. Tokens made before sessions existed have generation 0 and no session."""
    if token.get(GENERATION_CLAIM, 0) != user.token_generation:
        return False
    session = token.get(SESSION_CLAIM)
    return not (isinstance(session, str) and session and cache.get(_ended_key(session)))


def token_check(token: Token, user: User) -> None:
    """Refuse (401 token_not_valid) a token whose session has ended."""
    if not token_is_current(token, user):
        raise InvalidToken(str(SESSION_ENDED))


class SessionJWTAuthentication(JWTAuthentication):
    """simplejwt's bearer authentication, refusing the tokens of ended sessions."""

    def get_user(self, validated_token: Token) -> Any:
        user = super().get_user(validated_token)
        token_check(validated_token, cast(User, user))
        return user


class SessionJWTScheme(SimpleJWTScheme):
    """The schema's bearer scheme (jwtAuth), as for simplejwt's own class."""

    target_class = "accounts.tokens.SessionJWTAuthentication"
