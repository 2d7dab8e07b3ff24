"""Warming the dashboard's caches in the background, so the first pages answer at once.

:func:`warm` (run on a thread of the server by :mod:`dashboard.server`) fills the same
caches the pages read (the store's overview, every customer's profile, the fitted recommenders and
purchase models, the predictions and the first customers' profiles) for the "As of"
every session starts on (the newest data date). A page opened meanwhile simply waits
for the same cached call (Streamlit computes each entry once) and shows its spinner.
Any failure is the pages' to report: warming stays silent and never stops the server.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from dashboard import data
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


def steps(url: str) -> list[tuple[str, Callable[[], object]]]:
    """``(label, call)`` in the order pages need them: overview first."""
    as_of = default_as_of(url)
    return [
        ("store overview", lambda: data.load_overview(url, as_of)),
        ("profiles", lambda: prof.load_profiles(url, as_of)),
        ("first profiles", lambda: [
            prof.load_profile(url, as_of, c)
            for c in prof.load_profiles(url, as_of)["customer_id"].astype(str).head(PROFILES_AHEAD)
        ]),
        ("recommenders", lambda: rec.fit_blend(url, as_of)),
        ("purchase models", lambda: pred.load_predictions(url, as_of)),
        ("predictions views", lambda: (pred.load_store_view(url, as_of),
                                       pred.load_slipping(url, as_of))),
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
