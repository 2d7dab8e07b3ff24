"""Cached data access for the dashboard: the one place the app caches (STYLE rule 4).

Pages never run SQL, ``groupby`` or model fitting: they call these helpers,
which open the store once per URL (``st.cache_resource``) and cache the frames
the engine returns per ``(url, as_of)`` (``st.cache_data``, with a time to live
so rows added meanwhile by ``personalize track`` or ``import`` show up).
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from engine.db import open_store, resolve_url, session_scope
from engine.frames import load_customers
from engine.overview import StoreOverview, store_overview
from engine.store import StoreSummary, store_summary
from engine.store_settings import StoreIdentity, read_identity

SUMMARY_TTL_SECONDS = 30
"""The sidebar's counts are cheap: refresh them often."""

FRAME_TTL_SECONDS = 300
"""Aggregates over a fixed ``as_of`` only change when rows are added before it."""


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


@st.cache_data(ttl=SUMMARY_TTL_SECONDS, show_spinner=False)
def load_summary(url: str) -> StoreSummary:
    """Counts and date range of the store at ``url`` (see :func:`engine.store.store_summary`)."""
    with session_scope(get_engine(url)) as session:
        return store_summary(session)


def backend_name(url: str) -> str:
    """The SQL dialect in use, e.g. ``"sqlite"`` or ``"postgresql"``."""
    return get_engine(url).dialect.name


@st.cache_data(ttl=FRAME_TTL_SECONDS, show_spinner="Aggregating the store...")
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


@st.cache_data(ttl=FRAME_TTL_SECONDS, show_spinner=False)
def load_customer_names(url: str) -> pd.DataFrame:
    """Every stored customer's ``customer_id, name`` (names may be missing), by id."""
    with session_scope(get_engine(url)) as session:
        frame = load_customers(session)[["customer_id", "name"]]
    return frame.astype({"customer_id": str})
