"""Warming the dashboard's caches in the background, so the first pages answer at once.

:func:`warm` (run on a thread of the server by :mod:`dashboard.server`) fills the same
caches the pages read (every customer's profile, the fitted recommenders and purchase
models, the predictions, what the tour on "Start here" shows, the store's overview, the
first customers' profiles and the audiences' data) for the "As of"
every session starts on (the newest data date). A page opened meanwhile simply waits
for the same cached call (Streamlit computes each entry once) and shows its spinner.
Any failure is the pages' to report: warming stays silent and never stops the server.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from dashboard import audiences as aud
from dashboard import data, tour
from dashboard import predictions as pred
from dashboard import profiles as prof
from dashboard import recommendations as rec
from dashboard.sidebar import as_of_for

LOG = logging.getLogger(__name__)
PROFILES_AHEAD = 10
"""Customers whose full profile is built ahead: the top of the Customer profile picker."""


def default_as_of(url: str) -> datetime | None:
    """The "As of" a new session starts on (see :func:`dashboard.sidebar.draw_sidebar`)."""
    last = data.load_summary(url).last_activity
    return None if last is None else as_of_for(last.date())


def _tour(url: str, as_of: datetime | None) -> None:
    """What "Start here" (the first page) reads beyond the steps before it."""
    picks = tour.pick_personas(prof.load_profiles(url, as_of))
    for pick in picks:
        for context in (tour.RAINY_EVENING, tour.SUNNY_MORNING):
            rec.top_pick(url, as_of, pick.customer_id, **context)
    campaign = tour.campaign_rule(picks[0] if picks else None)
    aud.data_for(url, as_of, aud.compile_text(url, campaign))  # with predictions


def _first_profiles(url: str, as_of: datetime | None) -> None:
    """The top of the Customer profile picker: profiles and when each customer acts."""
    ids = prof.load_profiles(url, as_of)["customer_id"].astype(str).head(PROFILES_AHEAD)
    for customer_id in ids:
        prof.load_profile(url, as_of, customer_id)
        prof.load_activity_times(url, as_of, customer_id)


def steps(url: str) -> list[tuple[str, Callable[[], object]]]:
    """``(label, call)`` in the order pages need them: the first page (Start here) first."""
    as_of = default_as_of(url)
    return [
        ("profiles", lambda: prof.load_profiles(url, as_of)),
        ("recommenders", lambda: rec.fit_blend(url, as_of)),
        ("purchase models", lambda: pred.load_predictions(url, as_of)),
        ("predictions views", lambda: (pred.load_store_view(url, as_of),
                                       pred.load_slipping(url, as_of))),
        ("start here", lambda: _tour(url, as_of)),
        ("store overview", lambda: data.load_overview(url, as_of)),
        ("first profiles", lambda: _first_profiles(url, as_of)),
        # Audiences: rules without a predicted field read the data without predictions.
        ("audiences", lambda: aud.data_for(url, as_of, aud.compile_text(url, "high_value"))),
    ]  # fmt: skip


def warm(url: str) -> list[str]:
    """Fill the caches for ``url``; returns the labels that failed (logged, not raised)."""
    failed = []
    for label, call in steps(url):
        try:
            call()
        except Exception:  # noqa: BLE001 - the page that needs it shows the real message
            LOG.info("warming %s failed", label, exc_info=True)
            failed.append(label)
    return failed
