"""Domain errors, translated to protocol answers at the edges (HTTP status, OCPP CALLERROR)."""

from __future__ import annotations


class DomainError(Exception):
    """A command broke a rule of the domain."""


class InvalidValue(DomainError):
    """A value does not have the shape the domain requires."""


class NotFound(DomainError):
    """The thing addressed does not exist (or belongs to another organization)."""


class Conflict(DomainError):
    """The command contradicts what is already recorded (e.g. a duplicate identity)."""
