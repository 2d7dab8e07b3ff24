"""The batch over the whole store: customer ranges computed concurrently, each in its
own process, and :func:`compute_stats`, the frame every batch score starts from.

Processes rather than threads: two threads of one process ran the same ranges in
21 s each against 8 s in two processes, most likely SQLite's process-wide locks
(such as its allocator's). The workers are started with ``spawn`` (a fresh
interpreter: no inherited connections or threads); like any ``multiprocessing``
use, a script that scores a large store calls it under ``if __name__ == "__main__"``.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from datetime import datetime

import pandas as pd
from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.orm import Session

from engine.frames import existing_customers
from engine.models import Customer
from engine.profiles.stats_batch import compute_part, typed_stats
from engine.profiles.stats_dialect import CustomerSet, read_frame

MAX_WORKERS = 4
"""Upper bound on the processes of one batch (also bounded by the CPUs)."""
MIN_PARTITION_CUSTOMERS = 20_000
"""Stores smaller than two of these are scored in one piece (a process costs ~1 s)."""
_BATCH_CACHE_KIB = 256 * 1024
"""SQLite page cache per batch connection while it runs (restored afterwards)."""
_BATCH_WORK_MEM_MIB = 128
"""PostgreSQL ``work_mem`` of a batch transaction (per sort or hash; the default is 4 MB)."""

worker_peak_mib = 0.0
"""Largest peak resident memory (MiB) of any worker process so far (for the benchmark)."""


def _partitions(ids: list[str], workers: int) -> list[CustomerSet]:
    """Up to ``workers`` customer-id ranges of about equal size, from the ids in the
    database's order."""
    workers = min(workers, len(ids) // MIN_PARTITION_CUSTOMERS)
    if workers <= 1:
        return [CustomerSet()]
    bounds = [None, *(ids[len(ids) * k // workers] for k in range(1, workers)), None]
    return [CustomerSet(lo=bounds[k], hi=bounds[k + 1]) for k in range(workers)]


def _workers(engine: Engine) -> int:
    if engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:"):
        return 1  # every connection to an in-memory database is a different database
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1))


@contextmanager
def _batch_connection(connection: Connection) -> Iterator[Connection]:
    """``connection`` set up for a batch: on SQLite a large page cache for the duration
    (restored after); on PostgreSQL sort/hash memory for the rest of the transaction."""
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"SET LOCAL work_mem = '{_BATCH_WORK_MEM_MIB}MB'"))
        if not connection.info.get("used_temp_tables"):
            # Temporary tables live in local buffers (8 MB by default), settable only
            # before a session's first temporary table.
            connection.execute(text(f"SET temp_buffers = '{_BATCH_WORK_MEM_MIB * 4}MB'"))
        connection.info["used_temp_tables"] = True
    if connection.dialect.name != "sqlite":
        yield connection
        return
    restore = []
    for schema in ("main", "temp"):
        previous = connection.execute(text(f"PRAGMA {schema}.cache_size")).scalar()
        restore.append(f"PRAGMA {schema}.cache_size={int(previous or 0)}")
        connection.execute(text(f"PRAGMA {schema}.cache_size=-{_BATCH_CACHE_KIB}"))
    try:
        yield connection
    finally:
        for statement in restore:
            connection.execute(text(statement))


def part_in_process(
    url: str, as_of: datetime, customers: CustomerSet
) -> tuple[pd.DataFrame, float]:
    """One range of the batch in a worker process, on its own connection (read-only).

    Returns the range's statistics and the worker's peak resident memory in MiB.
    """
    from engine.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as connection, _batch_connection(connection) as batch:
            frame = compute_part(batch, as_of, customers)
            connection.rollback()
    finally:
        engine.dispose()
    return frame, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _run_partitions(
    connection: Connection, url: str, as_of: datetime, partitions: list[CustomerSet]
) -> list[pd.DataFrame]:
    """Every range's statistics: the first on ``connection`` while worker processes
    read the others (they see what is committed)."""
    global worker_peak_mib
    if len(partitions) == 1:
        with _batch_connection(connection) as batch:
            return [compute_part(batch, as_of, partitions[0])]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=len(partitions) - 1, mp_context=context) as pool:
        futures = [pool.submit(part_in_process, url, as_of, p) for p in partitions[1:]]
        with _batch_connection(connection) as batch:
            parts = [compute_part(batch, as_of, partitions[0])]
        for future in futures:
            frame, peak_mib = future.result()
            worker_peak_mib = max(worker_peak_mib, peak_mib)
            parts.append(frame)
    return parts


def compute_stats(
    session: Session,
    *,
    as_of: datetime,
    customer_ids: Sequence[str] | None = None,
    workers: int | None = None,
) -> pd.DataFrame:
    """Every customer's sufficient statistics from data strictly before ``as_of``.

    Args:
        session: an open session (nothing is written but temporary tables).
        as_of: the moment; only rows stamped strictly before it are read.
        customer_ids: restrict to these customers (default: every customer that
            exists as of ``as_of``, see :func:`engine.frames.existing_customers`,
            including those signed up without any data yet).
        workers: processes for the whole store (default: one per CPU, at most
            :data:`MAX_WORKERS`, and only for stores of at least two
            :data:`MIN_PARTITION_CUSTOMERS`). The first range is read on the
            session's connection, the others in worker processes, which see what
            is committed.

    Returns:
        Frame with :data:`STATS_COLUMNS`, one row per customer sorted by id,
        counts as int, no NaN except ``top_category`` (``None`` without interest).
    """
    connection = session.connection()
    if customer_ids is None:
        # Only customers that exist as of the moment (a later first sign does not count).
        customers = read_frame(
            connection,
            select(Customer.customer_id)
            .where(existing_customers(as_of))
            .order_by(Customer.customer_id),
            {},
        )
        engine = connection.engine
        partitions = _partitions(
            customers["customer_id"].tolist(), workers if workers is not None else _workers(engine)
        )
        url = engine.url.render_as_string(hide_password=False)
        parts = _run_partitions(connection, url, as_of, partitions)
    else:
        ids = tuple(sorted(set(customer_ids)))
        customers = pd.DataFrame({"customer_id": list(ids)})
        parts = [compute_part(connection, as_of, CustomerSet(ids=ids))] if ids else []
    stats = customers[["customer_id"]]
    found = [p for p in parts if not p.empty]
    if found:
        stats = stats.merge(pd.concat(found, ignore_index=True), on="customer_id", how="left")
    return typed_stats(stats)
