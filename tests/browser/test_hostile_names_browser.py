"""Store-supplied names are shown, never obeyed: a store whose product names, brands,
categories, customer names and cities are Markdown images, links and HTML is opened on
every page in Chromium, and no request leaves for another host."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest

from dashboard.cli import main

from .harness import chromium_page, require_chromium, running_app, wait_until_idle

pytestmark = pytest.mark.browser

EVIL = "evil.example"
HOSTILE = [
    f"![x](http://{EVIL}/md.png)",
    f"<img src=http://{EVIL}/html.png>",
    f"[click](http://{EVIL}/link)",
    f"![y](//{EVIL}/proto.png) **bold** $x^2$",
    f"<a href='http://{EVIL}/a'>plotly link</a> www.{EVIL}",
]
_WHERE = """e => {
  const ids = [];
  for (let n = e; n; n = n.parentElement) {
    if (n.dataset && n.dataset.testid) ids.push(n.dataset.testid);
  }
  return e.outerHTML + " in " + ids.join(" < ");
}"""
PAGES = ["", "customer_profile", "segments", "predictions", "recommendations", "evaluation"]


def _hostile(i: int) -> str:
    return HOSTILE[i % len(HOSTILE)]


def _hostile_store(path: Path) -> str:
    """Two customers (one with a hostile name and city, unhappy with hostile brands)
    buying products whose every text field is hostile."""
    url = f"sqlite:///{path / 'hostile.db'}"
    products = ["product_id,name,category,brand,price,tags"] + [
        f'p{i},"{_hostile(i)} {i}","{_hostile(i + 1)}","{_hostile(i + 2)}",{5 + i},rain'
        for i in range(8)
    ]
    customers = [
        "customer_id,name,city,country",
        f'a-evil,"{HOSTILE[0]}","{HOSTILE[1]}",Germany',
        "b-plain,Ann,Berlin,Germany",
    ]
    orders = ["customer_id,order_id,product_id,quantity,unit_price,ordered_at"] + [
        f"{'a-evil' if i % 2 else 'b-plain'},o{i},p{i % 8},1,{5 + i % 8},"
        f"2024-0{1 + i % 6}-{1 + i % 27:02d}T1{i % 10}:00:00"
        for i in range(60)
    ]
    reviews = ["customer_id,product_id,rating,reviewed_at,text"] + [
        f'a-evil,p{i},1,2024-06-{10 + i}T10:00:00,"{_hostile(i)}"' for i in range(6)
    ]
    files = {}
    for kind, lines in (
        ("products", products),
        ("customers", customers),
        ("orders", orders),
        ("reviews", reviews),
    ):
        files[kind] = path / f"{kind}.csv"
        files[kind].write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["import", "--db", url, *(f"--{k}={v}" for k, v in files.items())]) == 0
    assert main(["score", "--db", url]) == 0
    return url


def test_hostile_names_never_make_the_browser_fetch_another_host(tmp_path, capsys):
    require_chromium()
    url = _hostile_store(tmp_path)
    capsys.readouterr()
    foreign: list[str] = []
    with running_app(url) as base, chromium_page() as page:
        local = urlparse(base).hostname

        def note(request) -> None:  # type: ignore[no-untyped-def]
            host = urlparse(request.url).hostname
            if request.url.startswith(("http:", "https:", "ws:", "wss:")) and host != local:
                foreign.append(request.url)

        page.on("request", note)
        for name in PAGES:
            page.goto(f"{base}/{name}", timeout=90_000)
            page.locator("[data-testid='stMain']").wait_for(timeout=90_000)
            wait_until_idle(page, 90_000)
            assert not page.locator("[data-testid='stException']").count(), name
            # nothing hostile became markup: no element points at the host
            made = page.locator(
                ", ".join(
                    f"[{attribute}*='{EVIL}']"
                    for attribute in (
                        "src",
                        "href",
                        "srcset",
                        "style",
                        "data",
                        "action",
                        "xlink\\:href",
                    )
                )
            )
            assert made.count() == 0, (
                name,
                [made.nth(i).evaluate(_WHERE) for i in range(min(made.count(), 3))],
            )
        page.goto(f"{base}/customer_profile", timeout=90_000)
        wait_until_idle(page, 90_000)
        shown = page.locator("[data-testid='stMain']").inner_text()
        # the profile shows the hostile brands it is unhappy with, as text
        assert f"![x](http\u2060://{EVIL}/md.png)" in shown, shown
    assert not foreign, foreign
