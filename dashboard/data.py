"""Cached data access for the dashboard: the one place the app caches (STYLE rule 4).

Pages never run SQL, ``groupby`` or model fitting: they call these helpers,
which open the store once per URL (``st.cache_resource``) and cache the frames
the engine returns per ``(url, as_of)`` and the store's version
(:func:`engine.store.store_version`, re-read at most every
:data:`VERSION_TTL_SECONDS`): a fitted model or a frame stays cached until a row is
tracked, imported or re-scored, or the "As of" changes, and is never refitted on a timer.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any, Generic, ParamSpec, Protocol, TypeVar, cast

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from engine.db import open_store, resolve_url, session_scope
from engine.frames import load_customers
from engine.overview import StoreOverview, store_overview
from engine.store import StoreSummary, store_summary, store_version
from engine.store_settings import StoreIdentity, read_identity

SUMMARY_TTL_SECONDS = 30
"""The sidebar's counts are cheap: refresh them often."""

VERSION_TTL_SECONDS = 2.0
"""How stale the store's version may be: a row tracked now shows within two seconds."""

DEFAULT_MAX_ENTRIES = 32
"""Kept per cached function when it names none (old store versions age out)."""

P = ParamSpec("P")
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)


class Cached(Protocol, Generic[P, R_co]):
    """A cached function: called like the original, ``.clear()`` empties its cache."""

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R_co: ...

    def clear(self) -> None: ...


def database_url() -> str:
    """The store's URL: ``PERSONALIZE_DATABASE_URL``, else the embedded SQLite file.

    ``personalize dashboard`` sets the variable, so the app opens the store the command chose.
    """
    return resolve_url(None)


@st.cache_resource(show_spinner="Opening the store...")
def get_engine(url: str) -> Engine:
    """One engine (connection pool) per URL for the whole server; the schema is brought current.

    Raises:
        engine.errors.UserError: the URL is invalid or the database cannot be reached
            (not cached, so fixing the database and reloading recovers).
    """
    return open_store(url)


@st.cache_data(ttl=VERSION_TTL_SECONDS, show_spinner=False)
def load_store_version(url: str) -> str:
    """The store's current version (:func:`engine.store.store_version`), a few queries."""
    with session_scope(get_engine(url)) as session:
        return store_version(session)


def versioned(
    cache: Any = st.cache_data, **options: Any
) -> Callable[[Callable[P, R]], Cached[P, R]]:
    """Like ``cache(**options)`` on a function whose first argument is the store's URL,
    except that the store's version is part of the key: a new row or score run means
    a fresh result, an unchanged store a cached one however old. ``.clear()`` works."""
    options.setdefault("max_entries", DEFAULT_MAX_ENTRIES)

    def decorate(func: Callable[P, R]) -> Cached[P, R]:
        def keyed(version: str, *args: Any, **kwargs: Any) -> R:
            return func(*args, **kwargs)

        # Streamlit keys a cache by module, qualified name and source: keep them apart.
        keyed.__module__ = func.__module__
        keyed.__qualname__ = f"{func.__qualname__}@store_version"
        cached = cache(**options)(keyed)

        @functools.wraps(func)
        def call(*args: Any, **kwargs: Any) -> R:
            url = args[0] if args else kwargs["url"]
            return cast(R, cached(load_store_version(str(url)), *args, **kwargs))

        call.clear = cached.clear  # type: ignore[attr-defined]
        return cast(Cached[P, R], call)

    return decorate


@st.cache_data(ttl=SUMMARY_TTL_SECONDS, show_spinner=False)
def load_summary(url: str) -> StoreSummary:
    """Counts and date range of the store at ``url`` (see :func:`engine.store.store_summary`)."""
    with session_scope(get_engine(url)) as session:
        return store_summary(session)


def backend_name(url: str) -> str:
    """The SQL dialect in use, e.g. ``"sqlite"`` or ``"postgresql"``."""
    return get_engine(url).dialect.name


@versioned(show_spinner="Aggregating the store...")
def load_overview(url: str, as_of: datetime | None) -> StoreOverview:
    """KPIs, activity over time and mixes before ``as_of`` (see
    :func:`engine.overview.store_overview`); ``None`` = everything in the store."""
    with session_scope(get_engine(url)) as session:
        return store_overview(session, as_of=as_of)


# --- the store's identity and customer names (shared by the frame and every picker) -----


@st.cache_data(ttl=SUMMARY_TTL_SECONDS, show_spinner=False)
def load_identity(url: str) -> StoreIdentity:
    """The store's name, currency, time zone and description (:mod:`engine.store_settings`)."""
    with session_scope(get_engine(url)) as session:
        return read_identity(session)


@versioned(show_spinner=False)
def load_customer_names(url: str) -> pd.DataFrame:
    """Every stored customer's ``customer_id, name`` (names may be missing), by id."""
    with session_scope(get_engine(url)) as session:
        frame = load_customers(session)[["customer_id", "name"]]
    return frame.astype({"customer_id": str})
