"""One settings object, read from ``PERSONALIZE_*`` environment variables.

Nothing here touches a database or the disk at import time: :func:`get_settings`
follows the environment at every call, so a test can point everything elsewhere by
setting an environment variable.
"""

from __future__ import annotations

import functools
import os
from datetime import datetime
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from engine import defaults


class Settings(BaseSettings):
    """Runtime configuration.

    Attributes:
        database_url: SQLAlchemy URL of the store; ``None`` means the embedded
            SQLite file ``<data_dir>/store.db``.
        data_dir: where the embedded store and other local files live.
        seed: seed of the synthetic market the dashboard creates on first run.
        dashboard_customers: size of that first-run market.
        earliest_date: the earliest plausible timestamp of store data and "as of";
            older dates are refused at every entry (import, track, ``--as-of``).
        future_tolerance_days: how far past the wall clock a timestamp may be
            (clock skew between a till and this machine) before it is refused.
        chromium: the Chromium the dashboard's snapshots (PNG/PDF of a view) are
            rendered in, headless (Debian's ``chromium`` package by default).
    """

    model_config = SettingsConfigDict(env_prefix=defaults.ENV_PREFIX, extra="ignore")

    database_url: str | None = None
    data_dir: Path = Field(default_factory=defaults.data_dir)
    seed: int = 7
    dashboard_customers: int = 5000
    earliest_date: datetime = defaults.EARLIEST_DATE
    future_tolerance_days: float = Field(default=defaults.FUTURE_TOLERANCE_DAYS, ge=0, le=3650)
    chromium: Path = Path("/usr/lib/chromium/chromium")

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return defaults.embedded_url(self.data_dir)


def get_settings() -> Settings:
    """The settings the environment gives now (a fresh object the caller may change).

    Reading them costs a few milliseconds (pydantic-settings inspects every field), which
    ``track`` would pay per event: the object is built once per distinct environment
    and copied, so a changed variable still takes effect at the next call.
    """
    return _settings_for(_environment()).model_copy()


def _environment() -> tuple[tuple[str, str], ...]:
    """The variables the settings read (in any case, as pydantic-settings matches names
    case-insensitively) and those the default data directory comes from, with their values."""
    return tuple(
        sorted((name, value) for name, value in os.environ.items() if name.upper() in _VARIABLES)
    )


@functools.lru_cache(maxsize=16)
def _settings_for(environment: tuple[tuple[str, str], ...]) -> Settings:
    return Settings()


_VARIABLES = frozenset(
    (
        *(f"{defaults.ENV_PREFIX}{name.upper()}" for name in Settings.model_fields),
        "XDG_DATA_HOME",
        "HOME",
    )
)
