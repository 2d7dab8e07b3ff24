"""The served models: fitted once, refitted in the background, swapped atomically.

Requests read :attr:`ModelServer.fitted` once and use that :class:`FittedModels`
throughout, so a refit finishing mid-request never mixes two fits. A refit
builds a whole new :class:`FittedModels` away from the requests and then
replaces the reference in one assignment.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import Engine

from engine.db import session_scope
from engine.errors import UserError
from engine.predict.next_purchase import PurchasePredictor
from engine.predict.service import fit_store_predictor
from engine.recommend.base import StoreData
from engine.recommend.blend import BlendRecommender

log = logging.getLogger("personalize.api")


@dataclass(frozen=True)
class FittedModels:
    """Everything one fit produced; never changed after it is built."""

    data: StoreData
    blend: BlendRecommender
    predictor: PurchasePredictor | None
    predictor_error: str | None
    products: dict[str, tuple[str | None, str | None, str | None]]
    """product id -> (name, category, brand), for responses."""
    known_locations: tuple[str, ...]
    durables: frozenset[str]
    """The products the blend treats as durable: one a customer owns is never shown to
    them again (for purchases since the fit too, see :func:`engine.api.queries.owned`)."""
    as_of: datetime
    fitted_at: datetime
    seconds: float


def _text(value: Any) -> str | None:
    return None if value is None or (isinstance(value, float) and value != value) else str(value)


def fit_models(engine: Engine) -> FittedModels:
    """Load the store as of now and fit the blend and the purchase predictor.

    Raises:
        UserError: the store has nothing to learn from (no products, orders or events).
    """
    start = time.perf_counter()
    with session_scope(engine) as session:
        data = StoreData.load(session)
    blend = BlendRecommender()
    blend.fit(data)
    predictor: PurchasePredictor | None = None
    predictor_error: str | None = None
    try:
        with session_scope(engine) as session:
            predictor = fit_store_predictor(session, as_of=data.as_of)
    except UserError as exc:  # e.g. events but no orders yet: recommendations still serve
        predictor_error = str(exc)
    products = {
        str(p.product_id): (_text(p.name), _text(p.category), _text(p.brand))
        for p in data.products[["product_id", "name", "category", "brand"]].itertuples()
    }
    # Requests run in threads: build every lazily cached matrix now, not in a race.
    _ = (
        data.interactions,
        data.purchase_counts,
        data.activity,
        data.in_stock,
        data.customer_places,
        data.product_index,
        data.customer_index,
    )
    return FittedModels(
        data=data,
        blend=blend,
        predictor=predictor,
        predictor_error=predictor_error,
        products=products,
        known_locations=tuple(data.known_locations),
        durables=frozenset(str(p) for p in np.asarray(data.product_ids)[blend.durable_]),
        as_of=data.as_of,
        fitted_at=datetime.now(UTC).replace(tzinfo=None),
        seconds=time.perf_counter() - start,
    )


def _settle() -> None:
    """Keep the served models out of the garbage collector's way.

    A fit is millions of long-lived objects, and every full collection walks them all:
    a quarter to half a second in which no request is answered, every few hundred
    requests. Collect once now (the previous fit's garbage), then freeze what is left,
    so later collections walk only what requests allocate. Unfrozen first, so the fit
    this one replaces can be collected.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


class ModelServer:
    """Holds the current :class:`FittedModels` and refits them when asked or on a schedule.

    Parameters:
        engine: the store.
        refit_every: seconds between scheduled refits (None or 0: only when asked).
        fit: the fitting function (tests pass a cheaper one).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        refit_every: float | None = None,
        fit: Callable[[Engine], FittedModels] = fit_models,
    ) -> None:
        self.engine = engine
        self.refit_every = refit_every or None
        self._fit = fit
        self._fitted: FittedModels | None = None
        self._refitting = threading.Lock()
        self._stop = threading.Event()
        self._schedule: threading.Thread | None = None
        self.last_error: str | None = None
        self.write_lock = threading.Lock()
        """Serialises tracked writes in this process (SQLite has one writer anyway, and two
        events of one customer must not update the same statistics at once)."""

    @property
    def fitted(self) -> FittedModels | None:
        return self._fitted

    @property
    def refitting(self) -> bool:
        return self._refitting.locked()

    def refit(self) -> bool:
        """Fit now, in this thread, and swap; False when another refit was running."""
        if not self._refitting.acquire(blocking=False):
            return False
        try:
            log.info("fitting the served models ...")
            fitted = self._fit(self.engine)
            self._fitted = fitted  # the atomic swap: one reference assignment
            _settle()
            self.last_error = None
            log.info("models fitted as of %s in %.1f s", fitted.as_of, fitted.seconds)
        except UserError as exc:
            self.last_error = str(exc)
            log.warning("fit failed: %s", exc)
        except Exception as exc:  # keep serving the previous fit; /health tells
            self.last_error = f"fit failed: {type(exc).__name__}"
            log.exception("fit failed")
        finally:
            self._refitting.release()
        return True

    def refit_in_background(self) -> bool:
        """Start a refit in a thread; False when one is already running."""
        if self.refitting:
            return False
        thread = threading.Thread(target=self.refit, name="personalize-refit", daemon=True)
        thread.start()
        return True

    def start(self, *, fit: str = "background") -> None:
        """Fit once (``blocking``: now; ``background``: in a thread; ``lazy``: on first
        use) and start the refit schedule."""
        if fit == "blocking":
            self.refit()
        elif fit == "background":
            self.refit_in_background()
        if self.refit_every:
            self._schedule = threading.Thread(
                target=self._scheduled, name="personalize-schedule", daemon=True
            )
            self._schedule.start()

    def _scheduled(self) -> None:
        assert self.refit_every is not None
        while not self._stop.wait(self.refit_every):
            self.refit()

    def stop(self) -> None:
        self._stop.set()


class AudienceCache:
    """The members of each rule as of one moment, each computed once (one at a time:
    a second request for an audience being evaluated waits for that evaluation)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._as_of: datetime | None = None
        self._members: dict[str, list[str]] = {}

    def members(self, rule: str, as_of: datetime, compute: Callable[[], list[str]]) -> list[str]:
        with self._lock:
            if as_of != self._as_of:  # a refit: every audience is evaluated afresh
                self._as_of, self._members = as_of, {}
            if rule not in self._members:
                self._members[rule] = compute()
            return self._members[rule]
