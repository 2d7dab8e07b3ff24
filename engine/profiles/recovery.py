"""Profile recovery: how well the scores and segments find what a seeded market planted.

``truth`` is the seed's truth file (``personalize seed --truth``):
``customer_id, traits`` (``;``-separated planted traits) and one column per score
holding the customer's latent propensity for it, named as the score.

* :func:`score_recovery`: per score, the Spearman rank correlation of the score
  with its latent propensity among the customers who have the score (enough
  evidence), and how many of the customers who bought anything have it;
* :func:`recovery`: per behavioral segment, precision and recall against the
  planted traits (category enthusiasts pooled into one row ``enthusiast``; a hit
  needs the same ``<category>_enthusiast`` name on both sides);
* :func:`profile_recovery`: both, for a store and its truth frame.

Pure functions of frames (and, for :func:`profile_recovery`, of the store as of a
moment); nothing is written.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sqlalchemy.orm import Session

from engine.errors import UserError
from engine.profiles.scoring import SCORES

BEHAVIORAL_SEGMENTS = (
    "high_value",
    "frequent_buyer",
    "deal_seeker",
    "brand_loyal",
    "impulse_buyer",
    "researcher",
    "weekend_shopper",
    "night_owl",
    "mobile_first",
    "enthusiast",
)


def read_truth(path: str | Path) -> pd.DataFrame:
    """The seed's truth file as a frame (``customer_id`` as strings, empty traits as "").

    Raises:
        UserError: the file is missing or unreadable, or lacks ``customer_id``, ``traits``
            or a latent column per score (a truth file written before issue 10 has none).
    """
    try:
        frame = pd.read_csv(
            path,
            dtype={"customer_id": str, "traits": str},
            keep_default_na=False,
            na_values={s: [""] for s in SCORES},
        )
    except FileNotFoundError:
        raise UserError(
            f"truth file {str(path)!r} not found: write one with personalize seed --truth FILE"
        ) from None
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise UserError(f"cannot read truth file {str(path)!r}: {exc}") from None
    missing = [c for c in ("customer_id", "traits", *SCORES) if c not in frame.columns]
    if missing:
        raise UserError(
            f"truth file {str(path)!r} lacks column(s) {', '.join(missing)}: "
            "expected customer_id,traits and one latent column per score "
            "(personalize seed --truth FILE)"
        )
    return frame


def _pairs(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    pairs = frame[["customer_id", column]].copy()
    pairs[column] = pairs[column].fillna("").astype(str).str.split(";")
    pairs = pairs.explode(column)
    return pairs.loc[pairs[column] != ""].rename(columns={column: "segment"})


def recovery(truth: pd.DataFrame, profiles: pd.DataFrame) -> pd.DataFrame:
    """Per behavioral segment: ``planted, found, precision, recall``.

    Args:
        truth: ``customer_id, traits`` (``;``-separated planted traits).
        profiles: ``customer_id, segments`` (``;``-separated, as from
            :func:`engine.profiles.compute_profiles`).

    Returns:
        Frame indexed by segment (:data:`BEHAVIORAL_SEGMENTS`); precision or
        recall is NaN where nothing was found or planted.
    """
    planted = _pairs(_string_ids(truth), "traits")
    found = _pairs(_string_ids(profiles), "segments")
    rows = []
    for segment in BEHAVIORAL_SEGMENTS:
        if segment == "enthusiast":
            t = planted.loc[planted["segment"].str.endswith("_enthusiast")]
            f = found.loc[found["segment"].str.endswith("_enthusiast")]
        else:
            t = planted.loc[planted["segment"] == segment]
            f = found.loc[found["segment"] == segment]
        hits = len(t.merge(f, on=["customer_id", "segment"]))
        rows.append(
            {
                "segment": segment,
                "planted": len(t),
                "found": len(f),
                "precision": hits / len(f) if len(f) else float("nan"),
                "recall": hits / len(t) if len(t) else float("nan"),
            }
        )
    return pd.DataFrame(rows).set_index("segment")


def score_recovery(truth: pd.DataFrame, profiles: pd.DataFrame) -> pd.DataFrame:
    """Per score: ``spearman, customers, buyers, given_share``.

    Args:
        truth: ``customer_id`` and one latent column per score of
            :data:`engine.profiles.scoring.SCORES` (missing columns give NaN rows).
        profiles: ``customer_id``, the nine scores (NaN where there is not enough
            data) and ``orders`` (as from :func:`engine.profiles.compute_profiles`).

    Returns:
        Frame indexed by score: ``spearman`` the rank correlation of the score with
        its latent propensity over the ``customers`` who have the score;
        ``buyers`` customers with at least one order; ``given_share`` the share of
        those buyers who have the score (not "not enough data").
    """
    joined = _string_ids(profiles).merge(
        _string_ids(truth), on="customer_id", how="inner", suffixes=("", "_latent")
    )
    buyers = joined["orders"].to_numpy() > 0
    rows = []
    for name in SCORES:
        latent_column = f"{name}_latent" if f"{name}_latent" in joined else None
        score = joined[name].to_numpy(dtype=float)
        given = ~np.isnan(score)
        rho = float("nan")
        n = int(given.sum())
        if latent_column is not None:
            latent = joined[latent_column].to_numpy(dtype=float)
            both = given & ~np.isnan(latent)
            n = int(both.sum())
            if n >= 3:
                rho = float(spearmanr(score[both], latent[both])[0])
        rows.append(
            {
                "score": name,
                "spearman": rho,
                "customers": n,
                "buyers": int(buyers.sum()),
                "given_share": float((given & buyers).sum() / buyers.sum())
                if buyers.any()
                else float("nan"),
            }
        )
    return pd.DataFrame(rows).set_index("score")


def profile_recovery(
    session: Session, truth: pd.DataFrame, *, as_of: datetime | None = None
) -> dict[str, Any]:
    """Scores and segments of the store as of ``as_of`` against a seed's truth frame.

    Args:
        session: an open session on the seeded store.
        truth: the truth file's frame (see the module docstring).
        as_of: use only data before it (default: just after the newest data).

    Returns:
        ``{"as_of", "customers", "scores": [{score, spearman, customers, buyers,
        given_share}], "segments": [{segment, planted, found, precision, recall}]}``
        (NaN as ``None``).
    """
    from engine.profiles.profile import compute_profiles  # profile imports segments

    profiles = compute_profiles(session, as_of=as_of)
    scores = score_recovery(truth, profiles)
    segments = recovery(truth, profiles)
    return {
        "as_of": profiles.attrs["as_of"],
        "customers": int(len(profiles)),
        "scores": _records(scores, "score"),
        "segments": _records(segments, "segment"),
    }


def _records(frame: pd.DataFrame, key: str) -> list[dict[str, Any]]:
    out = []
    for index, row in frame.iterrows():
        record: dict[str, Any] = {key: index}
        for column, value in row.items():
            number = float(value)
            is_count = column in ("customers", "buyers", "planted", "found")
            record[str(column)] = (
                None if np.isnan(number) else int(number) if is_count else round(number, 4)
            )
        out.append(record)
    return out


def _string_ids(frame: pd.DataFrame) -> pd.DataFrame:
    if frame["customer_id"].dtype == object:
        return frame
    return frame.assign(customer_id=frame["customer_id"].astype(str))
