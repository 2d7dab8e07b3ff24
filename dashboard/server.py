"""``python -m dashboard.server run APP [streamlit flags]``: ``streamlit run`` plus warming.

The caches live in the Streamlit server's process, so they are warmed there: a thread
waits until the server's runtime is up, then fills them (:mod:`dashboard.warm`) while
the server already answers; the first browser session finds them full or filling.
"""

from __future__ import annotations

import gc
import sys
import threading
import time

WARMED = "personalize: pages warmed"
"""Starts the line the server logs once the warm-up is done."""


def _runtime_ready() -> bool:
    from streamlit.runtime import Runtime, RuntimeState

    return Runtime.exists() and Runtime.instance().state not in {
        RuntimeState.INITIAL, RuntimeState.STOPPING, RuntimeState.STOPPED
    }  # fmt: skip


def _warm_when_ready() -> None:
    # Streamlit is fully imported by now (see main): importing pandas here while the main
    # thread is still importing streamlit (which loads plotly, which peeks at a half-loaded
    # pandas in sys.modules) crashed the server at random.
    from dashboard import data, warm

    while not _runtime_ready():
        threading.Event().wait(0.1)
    start = time.perf_counter()
    failed = warm.warm(data.database_url())
    # The caches just filled live as long as the server: out of the collector's sight, a
    # full collection walks only what reruns make, not every cached frame and model.
    gc.freeze()
    # The server's own log, like Streamlit's lines above it (benchmarks wait for it).
    print(
        f"{WARMED} in {time.perf_counter() - start:.1f} s"
        + (f" (not warmed: {', '.join(failed)})" if failed else ""),
        file=sys.stderr,
        flush=True,
    )


def main() -> None:
    from streamlit.web import cli  # first, on this thread: it imports plotly and pandas

    threading.Thread(target=_warm_when_ready, name="dashboard-warm", daemon=True).start()

    sys.argv = ["streamlit", *sys.argv[1:]]
    cli.main()


if __name__ == "__main__":
    main()
