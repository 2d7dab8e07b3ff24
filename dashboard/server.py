"""``python -m dashboard.server run APP [streamlit flags]``: ``streamlit run`` plus warming.

The caches live in the Streamlit server's process, so they are warmed there: a thread
waits until the server's runtime is up, then fills them (:mod:`dashboard.warm`) while
the server already answers; the first browser session finds them full or filling.
"""

from __future__ import annotations

import sys
import threading


def _runtime_ready() -> bool:
    from streamlit.runtime import Runtime, RuntimeState

    return Runtime.exists() and Runtime.instance().state not in {
        RuntimeState.INITIAL, RuntimeState.STOPPING, RuntimeState.STOPPED
    }  # fmt: skip


def _warm_when_ready() -> None:
    # Imported here, off the main thread: the server answers before pandas and plotly load.
    from dashboard import data, warm

    while not _runtime_ready():
        threading.Event().wait(0.1)
    warm.warm(data.database_url())


def main() -> None:
    threading.Thread(target=_warm_when_ready, name="dashboard-warm", daemon=True).start()
    from streamlit.web import cli

    sys.argv = ["streamlit", *sys.argv[1:]]
    cli.main()


if __name__ == "__main__":
    main()
