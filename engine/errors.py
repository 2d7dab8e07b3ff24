"""Errors a user can cause and fix: the CLI prints them as one line and exits 2."""

from __future__ import annotations


class UserError(Exception):
    """A mistake in what the user asked for (bad URL, missing file, invalid value).

    The message is shown to the user as is, so it names what was wrong and,
    where there is a closed list, the valid values.
    """


class ValidationError(UserError):
    """A row of an input file (or one tracked event) failed validation."""

    def __init__(self, message: str, *, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


def choice_error(field: str, value: object, valid: list[str] | tuple[str, ...]) -> UserError:
    """The standard refusal for a value outside a closed list."""
    return UserError(f"invalid {field} {value!r}; valid values: {', '.join(valid)}")
