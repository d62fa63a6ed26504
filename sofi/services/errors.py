"""Errors the services raise, with a French message for the user."""


class DomainError(Exception):
    """A user action or a command that cannot be carried out; ``message`` is in French."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class ImportFileError(DomainError):
    """A file given to an import command is unreadable or malformed; nothing was imported."""
