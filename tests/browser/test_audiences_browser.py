"""A real Chromium builds an audience from two segments and a score range, exports it, and
finds the file equal to ``personalize audience eval`` on the same rule; then moves a what-if
slider and sees the size and the export follow."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from engine.db import open_store, session_scope
from engine.store import store_summary

from .harness import (
    ARTIFACTS,
    after_rerun,
    capture,
    chromium_page,
    require_chromium,
    running_app,
    settle,
)

pytestmark = pytest.mark.browser

TIMEOUT_MS = 60_000
SEGMENTS_RULE = "night_owl OR mobile_first"
BUILT_RULE = "(night_owl OR mobile_first) AND lifetime_value between 40 and 90"


def _page_as_of(url: str) -> datetime:
    """What the sidebar's default "As of" means: the end of the newest data's day."""
    engine = open_store(url)
    with session_scope(engine) as session:
        last = store_summary(session).last_activity
    engine.dispose()
    assert last is not None
    return datetime.combine(last.date() + timedelta(days=1), time())


def _cli_csv(url: str, rule: str, as_of: datetime) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "dashboard.cli", "--db", url, "audience", "eval", rule,
         "--as-of", as_of.isoformat(), "--format", "csv"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout


def _download(page: Any) -> tuple[str, str]:
    """Click the download button; returns (its label, the file's text)."""
    button = page.get_by_role("button", name=re.compile(r"Download the [\d,]+ members"))
    label = button.inner_text()
    with page.expect_download(timeout=TIMEOUT_MS) as info:
        button.click()
    return label, Path(info.value.path()).read_text(encoding="utf-8")


def _size(page: Any) -> int:
    metric = page.locator("[data-testid='stMetric']").filter(has_text="Customers in the audience")
    return int(metric.locator("[data-testid='stMetricValue']").inner_text().replace(",", ""))


def _commit(page: Any, label: str, value: str, key: str) -> None:
    box = page.get_by_label(label, exact=True)

    def type_it() -> None:
        box.fill(value)
        box.press(key)

    after_rerun(page, type_it, TIMEOUT_MS)


def test_build_export_and_what_if_match_the_cli(seeded_db_url):
    require_chromium()
    as_of = _page_as_of(seeded_db_url)
    with running_app(seeded_db_url) as base, chromium_page(height=1400) as page:
        page.goto(f"{base}/audiences", timeout=TIMEOUT_MS)
        page.get_by_role("heading", name="Audiences").wait_for(timeout=TIMEOUT_MS)
        page.get_by_text("Customers in the audience").wait_for(timeout=TIMEOUT_MS)
        settle(page, TIMEOUT_MS)

        # Two segments typed, the score range added with the helpers.
        _commit(page, "Rule", SEGMENTS_RULE, "Control+Enter")
        page.get_by_text("Build the rule with helpers").click()  # opens in the browser only
        page.get_by_label("From", exact=True).wait_for(timeout=TIMEOUT_MS)
        _commit(page, "From", "40", "Enter")
        _commit(page, "To", "90", "Enter")
        after_rerun(page, lambda: page.get_by_role("button", name="Add range").click(), TIMEOUT_MS)
        assert page.get_by_label("Rule", exact=True).input_value() == BUILT_RULE
        settle(page, TIMEOUT_MS)

        expected = _cli_csv(seeded_db_url, BUILT_RULE, as_of)
        label, exported = _download(page)
        assert exported == expected
        members = len(expected.splitlines()) - 1
        assert 0 < members == _size(page)
        assert f"Download the {members:,} members" in label
        assert expected.splitlines()[0] == (
            "customer_id,name,email,city,lifetime_value,night_shopping,mobile_usage"
        )

        # What-if: raise the range's lower bound; size, members and export follow.
        thumb = (
            page.locator("[data-testid='stSlider']")
            .filter(has_text="lifetime_value between 40 and 90")
            .get_by_role("slider")
            .first
        )
        thumb.focus()
        for _ in range(10):
            thumb.press("ArrowRight", delay=30)
        page.get_by_text("Rule in effect:").wait_for(timeout=TIMEOUT_MS)
        settle(page, TIMEOUT_MS)
        effective = (
            page.locator("[data-testid='stAlert']")
            .filter(has_text="Rule in effect:")
            .locator("code")
            .inner_text()
        )
        low = float(re.search(r"between ([\d.]+) and 90", effective).group(1))
        assert low > 40
        moved = _cli_csv(seeded_db_url, effective, as_of)
        label, exported = _download(page)
        assert exported == moved
        assert len(moved.splitlines()) - 1 == _size(page) < members
        assert f"Download the {_size(page):,} members" in label
        capture(page, ARTIFACTS / "audiences.png")
    assert (ARTIFACTS / "audiences.png").stat().st_size > 10_000
