"""The settings' default values, and whether the environment overrides them, readable
without pydantic.

:class:`engine.config.Settings` takes its defaults from here. Code on the command
line's quick paths (``personalize info``: the store's URL, the plausible window) reads
them directly when the environment sets none of the variables concerned, and builds
the settings object only when it does: importing pydantic costs about a third of
``info``'s start.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

ENV_PREFIX = "PERSONALIZE_"

EARLIEST_DATE = datetime(1970, 1, 1)
FUTURE_TOLERANCE_DAYS = 1.0


def data_dir() -> Path:
    """The default data directory: ``$XDG_DATA_HOME/personalize``, else
    ``~/.local/share/personalize``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "personalize"


def embedded_url(directory: Path) -> str:
    """The URL of the embedded SQLite store kept in ``directory``."""
    return f"sqlite:///{directory / 'store.db'}"


def environment_sets(*fields: str) -> bool:
    """Whether any ``PERSONALIZE_<FIELD>`` variable of ``fields`` is set (in any case,
    as pydantic-settings matches names case-insensitively), even to an empty value."""
    wanted = {f"{ENV_PREFIX}{field}".upper() for field in fields}
    return any(name.upper() in wanted for name in os.environ)
