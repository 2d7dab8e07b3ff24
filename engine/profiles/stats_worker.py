"""Worker process of batch scoring: ``python -m engine.profiles.stats_worker``.

Reads one job from stdin (a pickled ``(url, as_of, customers)``), computes that
range's statistics on its own read-only connection and writes the pickled
``(frame, peak resident MiB)`` to stdout. A module of its own, run with ``-m``,
so it never re-imports the caller's ``__main__`` (as ``multiprocessing`` would
with its spawn start method).
"""

from __future__ import annotations

import pickle
import resource
import sys

from engine.profiles.stats import part_in_process


def main() -> None:
    url, as_of, customers = pickle.load(sys.stdin.buffer)
    frame = part_in_process(url, as_of, customers)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    pickle.dump((frame, peak_mib), sys.stdout.buffer, protocol=pickle.HIGHEST_PROTOCOL)


if __name__ == "__main__":
    main()
