"""Errors a service raises when a request breaks a rule; the message is shown to the user."""


class DomainError(Exception):
    """A rule said no; `str(error)` is a polite sentence saying what to do instead."""


class NotAllowed(DomainError):
    """The person may not act on that object."""
