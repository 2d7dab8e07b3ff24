"""Benchmark section "dashboard": how fast the analyst's pages answer in a real browser.

``personalize dashboard`` is started headless on a free loopback port against the
default seeded, scored store (``personalize seed``'s default size; ``--quick``: 1,000
customers), kept under ``artifacts/bench/`` and rebuilt only when it is missing or the
seed's code changed. Once the server answers, one unmeasured browser session visits
every step while the server warms its caches; once the server logs that its warm-up is
done, three (``--quick``: one) new Debian Chromium sessions (playwright) each time:

* the first page of a new browser session [< 3 s]: the default one (Start here, the tour),
  and the Store overview opened by its address (the page this bench opened before the
  tour became the default, so its figure compares with the recorded one);
* switching to Customer profile, Recommendations, Segments, Predictions, Audiences and
  Evaluation from the sidebar [< 1.5 s each];
* picking another customer (Customer profile), a weather change (Recommendations) and
  one what-if slider step (Segments) [< 0.5 s each].

A step is done when the app's script state is ``notRunning``, nothing is stale
(``data-stale``) or a skeleton, every plotly chart on the page has drawn its SVG, and
the step's own element is there (a page's title and a section of it; the new value).
Each step is reported as p50 and p95 over its samples, next to the figures recorded
before the change that made the pages fast (``dashboard_before.json``: the same bench
on the code before it). The same-run baseline is a bare Streamlit app (a title, a
slider, a line of text) on the same machine: its first page and one slider step are
the floor the frontend and a rerun themselves cost.
"""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.harness import BenchOptions, Metric, stop_server

from .serve import _free_port

if TYPE_CHECKING:
    from playwright.sync_api import Page

SECTION = "dashboard"
ROOT = Path(__file__).resolve().parents[1]
STORE_DIR = ROOT / "artifacts" / "bench"
BEFORE = Path(__file__).with_name("dashboard_before.json")
CHROMIUM = "/usr/lib/chromium/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STEP_TIMEOUT_MS = 120_000
READY_TIMEOUT_S = 300.0
FIRST_PAGE_TARGET_S = 3.0
SWITCH_TARGET_S = 1.5
CHANGE_TARGET_S = 0.5
QUIET_MS = 150
PAGES = {  # sidebar label -> an element of the page that its script draws late
    "Customer profile": "Mood and how to approach them",
    "Recommendations": "Compare two contexts",
    "Segments": "Scores inside each segment",
    "Predictions": "High-value customers slipping away",
    "Audiences": "Customers in the audience",
    "Evaluation": "Run the evaluation",
}
WARMED_LINE = "personalize: pages warmed"  # what dashboard/server.py logs (its WARMED)
START_MARKER = "A campaign audience and its size"  # the tour's last step
WEATHERS = ["rainy", "snowy", "sunny", "cloudy"]

# Counts finished script runs (the root's data-test-script-state leaving "running"),
# so a run too quick for polling to see is still counted.
# It also counts the server's messages: a rerun too quick for the browser ever to draw
# "running" (both states batched in one render) still sends some, and is done once the
# page has settled with no message for QUIET_MS (a conservative end: it adds that pause).
_RUN_COUNTER = """
window.__runsDone = 0; window.__msgs = 0; window.__lastMsg = 0;
const NativeSocket = window.WebSocket;
window.WebSocket = function (...args) {
  const socket = new NativeSocket(...args);
  socket.addEventListener('message', () => {
    window.__msgs += 1; window.__lastMsg = performance.now(); });
  return socket;
};
window.WebSocket.prototype = NativeSocket.prototype;
for (const k of ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED']) window.WebSocket[k] = NativeSocket[k];
new MutationObserver((records) => {
  for (const r of records) if (r.oldValue === 'running') window.__runsDone += 1;
}).observe(document, {subtree: true, attributes: true, attributeOldValue: true,
                      attributeFilter: ['data-test-script-state']});
"""
_DONE = """(text) => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (document.querySelector('[data-stale="true"], [data-testid="stSkeleton"]')) return false;
  const charts = document.querySelectorAll('[data-testid="stPlotlyChart"]');
  for (const c of charts) if (!c.querySelector('.main-svg')) return false;
  const main = document.querySelector('[data-testid="stMain"]');
  return !!main && (!text || main.innerText.includes(text));
}"""


@dataclass
class Steps:
    """Seconds per step name, in the order first seen."""

    samples: dict[str, list[float]] = field(default_factory=dict)

    def add(self, name: str, seconds: float) -> None:
        self.samples.setdefault(name, []).append(seconds)


def _percentile(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def _cli(url: str, *args: str) -> None:
    env = {**os.environ, "PERSONALIZE_DATABASE_URL": url}
    done = subprocess.run(
        [sys.executable, "-m", "dashboard.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"personalize {args[0]} failed: {done.stderr.strip()[-500:]}")


def _seed_digest() -> str:
    """Changes when the seed's code does (then the kept store is rebuilt)."""
    digest = hashlib.sha1()
    for path in sorted((ROOT / "seed").rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def bench_store(customers: int | None) -> str:
    """The URL of the seeded, scored store (built, then renamed into place, if missing)."""
    size = "default" if customers is None else str(customers)
    path = STORE_DIR / f"dashboard-{size}-{_seed_digest()}.db"
    if not path.exists():
        STORE_DIR.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial.db")
        partial.unlink(missing_ok=True)
        url = f"sqlite:///{partial}"
        _cli(url, "seed", *([] if customers is None else ["--customers", str(customers)]))
        _cli(url, "score")
        partial.rename(path)
    return f"sqlite:///{path}"


@contextmanager
def _server(command: list[str], env: dict[str, str], log_path: Path) -> Iterator[str]:
    """A Streamlit server from ``command`` (its port already in it), once it answers."""
    port = (
        command[command.index("--port") + 1]
        if "--port" in command
        else command[command.index("--server.port") + 1]
    )
    base = f"http://127.0.0.1:{port}"
    with log_path.open("w", encoding="utf-8") as log_file:
        server = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + READY_TIMEOUT_S
            while not _healthy(base):
                if server.poll() is not None:
                    raise RuntimeError(f"the dashboard exited: {log_path.read_text()[-800:]}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the dashboard did not answer within {READY_TIMEOUT_S}s")
                time.sleep(0.2)
            yield base
        finally:
            stop_server(server)


def _healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def _timed(
    page: Page, action: Callable[[], None], text: str | None, extra: str | None = None
) -> float:
    """Seconds from ``action`` until a rerun it started is done and ``text`` is on the page."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    runs = page.evaluate("() => [window.__runsDone, window.__msgs]")
    start = time.perf_counter()
    action()
    rerun = f"""([runs, msgs]) => window.__runsDone > runs || (window.__msgs > msgs
        && performance.now() - window.__lastMsg > {QUIET_MS})"""
    waits = [
        ("a rerun to finish", rerun, runs),
        (f"the page to settle showing {text!r}", _DONE, text),
    ]
    if extra:
        waits.append(("the widget's new value", extra, None))
    for what, predicate, arg in waits:
        try:
            page.wait_for_function(predicate, arg=arg, timeout=STEP_TIMEOUT_MS, polling="raf")
        except PlaywrightTimeout as exc:
            shot = STORE_DIR / "dashboard-timeout.png"
            page.screenshot(path=str(shot), full_page=True)
            raise RuntimeError(
                f"waited {STEP_TIMEOUT_MS / 1000:.0f} s for {what} on "
                f"{page.url} (screenshot: {shot})"
            ) from exc
    return time.perf_counter() - start


def _select(page: Page, label: str, option: str | int) -> Callable[[], None]:
    """An action choosing ``option`` (text, or position among the other choices drawn) in
    the selectbox ``label``."""

    def choose() -> None:
        combo = page.get_by_role("combobox", name=label, exact=True).first
        box = page.locator('[data-testid="stSelectbox"]').filter(has=combo).first
        box.get_by_role("button", name="Open").click()
        # The list is virtual (a window of ~10 rows around the chosen one), so a position
        # counts among the rows drawn, never the chosen one: the click always changes it.
        options = page.locator('[role="option"]:not([aria-selected="true"])')
        target = (
            options.nth(option)
            if isinstance(option, int)
            else options.filter(has_text=option).first
        )
        target.click()

    return choose


SLIDER = '[data-testid="stMain"] [data-testid="stSlider"] input[type="range"]'


def _slider_value(page: Page) -> str:
    return str(page.locator(SLIDER).first.input_value())


def _first_page(context: Any, address: str, marker: str) -> tuple[Page, float]:
    """A new tab (a new Streamlit session) opened on ``address``, and the seconds until it
    settled showing ``marker``."""
    page = context.new_page()
    page.add_init_script(_RUN_COUNTER)
    start = time.perf_counter()
    page.goto(address, timeout=STEP_TIMEOUT_MS)
    page.wait_for_function("() => window.__runsDone > 0", timeout=STEP_TIMEOUT_MS)
    page.wait_for_function(_DONE, arg=marker, timeout=STEP_TIMEOUT_MS, polling="raf")
    return page, time.perf_counter() - start


def _session(context: Any, base: str, rep: int, steps: Steps) -> None:
    """One new Streamlit session (a new tab) on the default page, then another on the Store
    overview's address through every step, each timed into ``steps``."""
    tour, seconds = _first_page(context, base, START_MARKER)
    steps.add("first page (Start here, the default)", seconds)
    tour.close()
    page, seconds = _first_page(context, f"{base}/overview", "Active customers")
    steps.add("first page (Store overview)", seconds)
    try:
        for title, marker in PAGES.items():
            print(f"  session {rep}: {title}", file=sys.stderr, flush=True)
            link = page.locator('[data-testid="stSidebarNav"] a').filter(has_text=title).first
            steps.add(f"switch to {title}", _timed(page, link.click, marker))
            if title == "Customer profile":
                for pick in (rep + 2, rep + 4):
                    steps.add(
                        "pick another customer",
                        _timed(page, _select(page, "Customer", pick), "Tone to use"),
                    )
            elif title == "Recommendations":
                for turn in range(2):
                    current = page.get_by_role("combobox", name="Weather").first.input_value()
                    weather = next(
                        w
                        for w in WEATHERS[(rep + turn) % 4 :] + WEATHERS
                        if w not in current.lower()
                    )
                    steps.add(
                        "weather change (Recommendations)",
                        _timed(page, _select(page, "Weather", weather), "What they"),
                    )
            elif title == "Segments":
                for key in ("ArrowLeft", "ArrowRight"):
                    before = _slider_value(page)
                    slider = page.locator(SLIDER).first
                    moved = f"""() => {{
                        const s = document.querySelector({json.dumps(SLIDER)});
                        return !!s && s.value !== {json.dumps(before)}; }}"""
                    steps.add(
                        "what-if slider step (Segments)",
                        _timed(page, partial(slider.press, key), "size", moved),
                    )
    finally:
        page.close()


def _wait_warmed(log_path: Path) -> None:
    """Until the server has logged that its warm-up thread is done."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while WARMED_LINE not in log_path.read_text(encoding="utf-8", errors="replace"):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the dashboard did not finish warming within {READY_TIMEOUT_S}s")
        time.sleep(0.5)


def _drive(base: str, sessions: int, warmed: Callable[[], None]) -> tuple[Steps, float]:
    """A warm-up session (its first page timed: the server's first answer, while it warms),
    then, once ``warmed()`` returns, ``sessions`` measured ones."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            # One context: each tab is a new Streamlit session, the frontend's files cached
            # by the warm-up one, as for an analyst who opens the dashboard again.
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            warm = Steps()
            _session(context, base, 0, warm)
            warmed()  # "server already warm": its background work would slow every step
            steps = Steps()
            for rep in range(sessions):
                _session(context, base, rep + 1, steps)
        finally:
            browser.close()
    return steps, sum(warm.samples["first page (Start here, the default)"])


BARE_APP = """import streamlit as st
st.title("Bare")
value = st.slider("Level", 0, 100, 50)
st.write(f"Level is {value}")
"""


def _bare(directory: Path, sessions: int) -> Steps:
    """The floor: a bare Streamlit app's first page and one slider step, same machine."""
    from playwright.sync_api import sync_playwright

    app = directory / "bare.py"
    app.write_text(BARE_APP, encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.port",
        str(_free_port()),
        "--server.headless",
        "true",
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
    ]
    steps = Steps()
    with _server(command, dict(os.environ), directory / "bare.log") as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context()
            for rep in range(sessions + 1):
                page = context.new_page()
                page.add_init_script(_RUN_COUNTER)
                start = time.perf_counter()
                page.goto(base, timeout=STEP_TIMEOUT_MS)
                page.wait_for_function("() => window.__runsDone > 0", timeout=STEP_TIMEOUT_MS)
                page.wait_for_function(_DONE, arg="Level is", timeout=STEP_TIMEOUT_MS)
                first = time.perf_counter() - start
                slider = page.locator(SLIDER).first
                step = _timed(page, partial(slider.press, "ArrowRight"), "Level is 51")
                if rep:  # the first session warms the server
                    steps.add("bare Streamlit app: first page (baseline)", first)
                    steps.add("bare Streamlit app: slider step (baseline)", step)
                page.close()
        finally:
            browser.close()
    return steps


def _target(name: str) -> float:
    if name.startswith("first page"):
        return FIRST_PAGE_TARGET_S
    return SWITCH_TARGET_S if name.startswith("switch") else CHANGE_TARGET_S


def _metrics(
    steps: Steps,
    before: dict[str, Any],
    bare: Steps,
    sessions: int,
    started_s: float,
    cold_s: float,
) -> list[Metric]:
    recorded = before.get("steps", {})
    note_before = before.get("measured", "not recorded")
    metrics = [
        Metric(SECTION, "server: start to answering", started_s, "s"),
        Metric(
            SECTION,
            "server: first page of the warm-up session",
            cold_s,
            "s",
            note="right after start; not a target",
        ),
    ]
    for name, values in (bare.samples | steps.samples).items():
        baseline = name.endswith("(baseline)")
        for q in (50, 95):
            value = _percentile(values, q)
            was = recorded.get(name, {}).get(f"p{q}")
            note = f"{len(values)} samples over {sessions} sessions"
            if not baseline:
                note += f"; before: {was:.2f} s" if was is not None else "; before: -"
            metrics.append(
                Metric(
                    SECTION,
                    f"{name} p{q}",
                    value,
                    "s",
                    target=None if baseline else _target(name),
                    note=note,
                )
            )
    if recorded:
        metrics.append(Metric(SECTION, "before: recorded on", 0.0, "-", note=note_before))
    return metrics


def run(options: BenchOptions) -> list[Metric]:
    sessions = int(options.extra.get("sessions", 1 if options.quick else 3))
    url = bench_store(1000 if options.quick else None)
    port = _free_port()
    command = [sys.executable, "-m", "dashboard.cli", "dashboard", "--port", str(port)]
    env = {**os.environ, "PERSONALIZE_DATABASE_URL": url}
    before = json.loads(BEFORE.read_text(encoding="utf-8")) if BEFORE.exists() else {}
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        log_path = Path(tmp) / "dashboard.log"
        with _server(command, env, log_path) as base:
            started_s = time.perf_counter() - start
            steps, cold_s = _drive(base, sessions, partial(_wait_warmed, log_path))
        bare = _bare(Path(tmp), sessions)
    if os.environ.get("PERSONALIZE_BENCH_DASHBOARD_RECORD"):
        record = {
            "measured": os.environ["PERSONALIZE_BENCH_DASHBOARD_RECORD"],
            "steps": {
                name: {"p50": _percentile(v, 50), "p95": _percentile(v, 95)}
                for name, v in steps.samples.items()
            },
        }
        BEFORE.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return _metrics(steps, before, bare, sessions, started_s, cold_s)
