"""``python -m dashboard.server run APP [streamlit flags]``: ``streamlit run`` plus warming.

The caches live in the Streamlit server's process, so they are warmed there: a thread
waits until the server's runtime is up, then fills them (:mod:`dashboard.warm`) while
the server already answers; the first browser session finds them full or filling.
"""

from __future__ import annotations

import sys

from dashboard import data, warm


def _runtime_ready() -> bool:
    from streamlit.runtime import Runtime, RuntimeState

    return Runtime.exists() and Runtime.instance().state not in {
        RuntimeState.INITIAL, RuntimeState.STOPPING, RuntimeState.STOPPED
    }  # fmt: skip


def main() -> None:
    warm.start(data.database_url(), ready=_runtime_ready)
    from streamlit.web import cli

    sys.argv = ["streamlit", *sys.argv[1:]]
    cli.main()


if __name__ == "__main__":
    main()
