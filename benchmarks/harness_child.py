"""Child of :func:`benchmarks.harness.run_section`: one section, metrics as JSON on stdout."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict

from benchmarks.harness import BenchOptions, run_section_inline


def main() -> None:
    request = json.loads(sys.stdin.read())
    options = BenchOptions(**request["options"])
    metrics = run_section_inline(request["spec"], options)
    json.dump([asdict(m) for m in metrics], sys.stdout)


if __name__ == "__main__":
    main()
