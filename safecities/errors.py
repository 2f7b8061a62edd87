"""Exceptions that the CLI and the API turn into a one-line reason (never a traceback)."""

from __future__ import annotations

from safecities.domain import RowError


class SafecitiesError(Exception):
    """Base class: the message is shown to the user as is, on one line."""


class InputError(SafecitiesError):
    """Bad input file or argument; carries every row-level problem found."""

    def __init__(self, message: str, errors: list[RowError] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


class PermissionDenied(SafecitiesError):
    """The caller's role or municipality does not allow this action."""


class NotFound(SafecitiesError):
    pass


class CapabilityUnavailable(SafecitiesError):
    """A capability's library is not installed here (the API answers 503)."""

    def __init__(self, capability: str) -> None:
        super().__init__(f"{capability} is not available yet in this installation")
        self.capability = capability


class StoreBusy(SafecitiesError):
    """Another writer held the store longer than this write may wait (API: 503 + Retry-After)."""
