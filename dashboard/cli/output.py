"""Shared output helpers: JSON on stdout, progress and logs on stderr."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from typing import Any


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    # numpy only when a value needs it: `personalize info` must not pay for importing it.
    import numpy as np

    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def emit_json(document: Any) -> None:
    """Print one JSON document on stdout and nothing else."""
    json.dump(document, sys.stdout, default=_default, indent=2, allow_nan=False)
    sys.stdout.write("\n")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
