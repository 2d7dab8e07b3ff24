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


# (words in the driver's message, the sentence shown, the hint). Order matters: first match.
_STORE_FAULTS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (
        ("readonly database", "read-only", "read only"),
        "the store is read-only",
        "check the permissions of the store file and of its directory (SQLite writes a -wal file "
        "beside it), or point --db at a writable store",
    ),
    (
        ("database or disk is full", "no space left", "disk full"),
        "the disk is full",
        "free some space and run it again; the interrupted transaction was rolled back",
    ),
    (
        ("file is not a database", "not a database"),
        "the store file is not a database",
        "point --db at a store made by personalize (or a new path: it is created)",
    ),
    (
        ("database is locked", "could not obtain lock", "deadlock detected"),
        "the store stayed busy (another process held its write lock)",
        "run it again; concurrent writers wait for each other up to the busy timeout",
    ),
    (
        ("unable to open database file",),
        "the store file cannot be opened",
        "check that its directory exists and is writable",
    ),
    (("permission denied",), "permission denied", "check the file and directory permissions"),
    (
        ("null character", "0x00", "nul"),
        "a value holds a NUL byte",
        "remove control characters from the input",
    ),
)


def describe_store_fault(exc: BaseException) -> str | None:
    """One sentence and a hint for a database or file-system fault a user can fix, else None.

    The driver's own text is matched, never echoed: it may quote a URL or a password.
    """
    text = str(getattr(exc, "orig", None) or exc).lower()
    for words, sentence, hint in _STORE_FAULTS:
        if any(word in text for word in words):
            return f"{sentence}: {hint}"
    if isinstance(exc, PermissionError):
        return f"permission denied: {exc.filename}: check the file and directory permissions"
    if isinstance(exc, OSError) and exc.errno == 28:
        return "the disk is full: free some space and run it again"
    return None
