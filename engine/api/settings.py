"""The API's tunables, from ``PERSONALIZE_API_*`` environment variables (nothing read at import)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    """Settings of ``personalize serve``.

    Attributes:
        fit: when the served models are first fitted: ``background`` (at startup, in a
            thread; requests for recommendations get 503 until it is done), ``blocking``
            (before the first request is answered) or ``lazy`` (on the first request
            that needs them, in the background).
        refit_every_s: seconds between scheduled refits (0: only ``POST /admin/refit``).
        max_body_bytes: largest request body accepted (413 above).
        access_log: log a line per request (``personalize serve --access-log``).
    """

    model_config = SettingsConfigDict(env_prefix="PERSONALIZE_API_", extra="ignore")

    fit: Literal["background", "blocking", "lazy"] = "background"
    refit_every_s: float = Field(default=3600.0, ge=0)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    access_log: bool = False


def get_api_settings() -> ApiSettings:
    return ApiSettings()
