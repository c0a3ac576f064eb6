"""Domain errors: one base with a stable code and a translatable message.

Services raise these, never HTTP errors; the API's exception handler (hues.api_errors) and
the admin map them to responses. Clients switch on `code`, never on the message.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    code = "error"
    message: str | Promise = _("The request could not be completed.")

    def __init__(
        self,
        message: str | Promise | None = None,
        *,
        code: str | None = None,
        field: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        if message is not None:
            self.message = message
        if code is not None:
            self.code = code
        # The input field the error is about, when there is one.
        self.field = field
        # Seconds after which the same request may succeed (Retry-After), when known.
        self.retry_after = retry_after
        super().__init__(str(self.message))


class InvalidInput(DomainError):
    """The input breaks a rule (400)."""

    code = "invalid"


class NotPermitted(DomainError):
    """The actor may not do this (403)."""

    code = "permission_denied"
    message = _("You do not have permission to perform this action.")


class ObjectNotFound(DomainError):
    """The object does not exist, or the actor may not see it (404)."""

    code = "not_found"
    message = _("Not found.")


class Conflict(DomainError):
    """The object's state does not allow this now (409)."""

    code = "conflict"


class Unprocessable(DomainError):
    """The input is well-formed but cannot be processed as sent (422)."""

    code = "unprocessable"


class PayloadTooLarge(DomainError):
    """A file or body is larger than allowed (413)."""

    code = "too_large"


class UnsupportedMediaType(DomainError):
    """A file is not of a type we accept (415)."""

    code = "unsupported_media_type"


class TooManyRequests(DomainError):
    """The actor must wait before trying again (429)."""

    code = "throttled"


class ServiceUnavailable(DomainError):
    """The service cannot do this for a while, for anyone (503); see retry_after."""

    code = "service_unavailable"
    message = _("The service is briefly unavailable. Try again later.")
