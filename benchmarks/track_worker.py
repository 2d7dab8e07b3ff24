"""One tracking process: ``python -m benchmarks.track_worker URL EVENTS.jsonl START
[--plain] [--batch N]`` connects, waits until the wall-clock time ``START`` (so several workers
begin together), records each event in its own transaction as a storefront does, and
prints its first and last wall-clock times as JSON.

By default each event goes through :func:`engine.db.run_write` (the write lock from
the first read, a lost race rerun); ``--plain`` uses a plain session, which is what a
single writer needs and what the benchmark compares the safety's cost with;
``--batch N`` records N events per transaction with
:func:`engine.profiles.track_many` instead.
"""

from __future__ import annotations

import functools
import json
import sys
import time
from typing import Any

from sqlalchemy.orm import Session

from engine.db import make_engine, run_write, session_scope
from engine.profiles import TrackResult, track, track_many


def _track_one(session: Session, event: dict[str, Any]) -> TrackResult:
    return track(session, event)


def _track_batch(session: Session, events: list[dict[str, Any]]) -> list[TrackResult]:
    return track_many(session, events)


def main(argv: list[str]) -> int:
    url, path, start = argv[0], argv[1], float(argv[2])
    plain = "--plain" in argv[3:]
    batch = int(argv[argv.index("--batch") + 1]) if "--batch" in argv else 0
    with open(path, encoding="utf-8") as lines:
        events = [json.loads(line) for line in lines]
    engine = make_engine(url)
    try:
        with engine.connect():
            pass  # the pool holds a connection before the clock starts
        time.sleep(max(start - time.time(), 0.0))
        began = time.time()
        for first in range(0, len(events), batch or 1):
            if batch:
                run_write(
                    engine, functools.partial(_track_batch, events=events[first : first + batch])
                )
                continue
            event = events[first]
            if plain:
                with session_scope(engine) as session:
                    track(session, event)
            else:
                run_write(engine, functools.partial(_track_one, event=event))
        print(json.dumps({"began": began, "ended": time.time(), "events": len(events)}))
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
