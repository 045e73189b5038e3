"""Errors services raise; views, sockets and the CLI turn them into answers."""
import math

from flask_babel import gettext as _

__all__ = [
    "ConflictError", "InvalidTransition", "NotAllowed", "NotFound", "ServiceError", "TooManyAttempts", "ValidationError",
    "require",
]


class ServiceError(Exception):
    """A request the domain refuses, with a message fit for the person who asked."""

    status_code = 400

    def __init__(self, message, field=None):
        super().__init__(str(message))
        self.message = message
        self.field = field


class NotAllowed(ServiceError):
    """The actor may not do this."""

    status_code = 403


class NotFound(ServiceError):
    """The thing does not exist (or must look as if it did not)."""

    status_code = 404


class ValidationError(ServiceError):
    """Input that does not fit: a missing answer, a wrong type, a bad file."""

    status_code = 422


class ConflictError(ServiceError):
    """Someone else changed the ticket meanwhile; nothing was written."""

    status_code = 409

    def __init__(self, message, ticket_id=None):
        super().__init__(message)
        self.ticket_id = ticket_id


class InvalidTransition(ServiceError):
    """The workflow does not allow this event in the ticket's current status."""

    status_code = 409

    def __init__(self, message, event=None, status=None):
        super().__init__(message)
        self.event, self.status = event, status


def require(allowed, message=None):
    """Raise NotAllowed unless the policy said yes; `allowed` is the answer of a `policy.can_*` function."""
    if not allowed:
        raise NotAllowed(message or _("You are not allowed to do this."))


class TooManyAttempts(ServiceError):
    """Too many failed attempts (sign-ins, PINs): refused without checking; `retry_after` is the wait in seconds."""

    status_code = 429

    def __init__(self, message, retry_after):
        super().__init__(message)
        self.retry_after = max(math.ceil(retry_after), 1)
