"""`luna gallery`'s page in a real browser: Debian's Chromium, headless, driven by
Playwright, over a gallery of 300 photos (portraits, a HEIC, a video, a file name that is
not UTF-8, a description holding <script>) opened from file://, as from a USB stick.

Nothing may leave the page: Chromium is started with a proxy that leads nowhere, and every
request that is not for a file:// URL is aborted and counted (there must be none). The
screenshots are saved under test-artifacts/ (ignored by git); their paths are printed.

Playwright talks to its driver, and the driver to Chromium, over pipes: conftest's
_no_network guard (no Internet socket in any test) needs no exception here.

Without /usr/bin/chromium (or Playwright) the tests skip, saying so, except in CI (CI set:
.ci/run installs Chromium), where that fails instead.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from pathlib import Path

import pytest
from conftest import make_photo

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
PHOTOS = 300  # in all, the HEIC, the video and the odd ones included
SCRIPT_DESCRIPTION = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">'
# Flags keeping Chromium off the network, besides the routing below: a proxy on the discard
# port (anything that escaped the routing goes nowhere), and none of its own background
# requests (updates, safe browsing, metrics, DNS prefetching).
CHROMIUM_FLAGS = [
    "--proxy-server=127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-domain-reliability",
    "--disable-sync",
    "--no-first-run",
    "--no-pings",
    "--dns-prefetch-disable",
    "--metrics-recording-only",
    "--disable-features=OptimizationHints,MediaRouter,Translate,AutofillServerCommunication",
]


def _browser_or_skip():
    """Playwright's sync API, or a skip (a failure in CI) saying what is missing."""
    missing = None
    if not os.path.exists(CHROMIUM):
        missing = f"{CHROMIUM} is absent (apt-get install chromium)"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing = missing or "Playwright is not installed (pip install -e '.[test]')"
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser tests: {missing}")
        pytest.skip(missing)
    return sync_playwright


@pytest.fixture(scope="module")
def gallery(tmp_path_factory):
    """One gallery for the module, with --keep-location (for the map): (its folder, its
    data), in a library of its own (an SQLite file: the page does not depend on where the
    library is kept)."""
    from luna.library import Library

    base = tmp_path_factory.mktemp("gallery")
    with pytest.MonkeyPatch.context() as env:
        for name, folder in (("HOME", "home"), ("XDG_CACHE_HOME", "cache"),
                             ("XDG_DATA_HOME", "data"), ("XDG_CONFIG_HOME", "config")):  # fmt: skip
            env.setenv(name, str(base / folder))
        env.delenv("LUNA_CONFIG", raising=False)
        photos = _photos(base / "photos")
        with Library.open(base / "library.db") as lib:
            lib.import_paths([str(photos)])
            lib.marks.describe([str(photos / "p0007.jpg")], description=SCRIPT_DESCRIPTION)
            report = lib.gallery(base / "out", keep_location=True, originals=True)
    assert report.photos + report.videos == PHOTOS, report
    out = base / "out"
    text = (out / "data.js").read_text()
    data = json.loads(text[text.index("{") : text.rindex("}") + 1])
    return out, data


def _photos(folder: Path) -> Path:
    """300 small photos of distinct content: every 4th a portrait, every 3rd with a
    position, a HEIC, a video, and a file name that is not UTF-8."""
    from PIL import Image
    from test_gallery import tiny_mp4

    from luna.ingest.extract.heif import register

    start = dt.datetime(2018, 1, 1, 9, 0)
    for i in range(PHOTOS - 3):
        when = start + dt.timedelta(hours=7 * i)
        make_photo(
            folder / f"p{i:04}.jpg",
            taken=when.strftime("%Y:%m:%d %H:%M:%S"),
            size=(48, 64) if i % 4 == 0 else (64, 48),
            orientation=6 if i % 8 == 0 else None,
            gps=(40 + (i % 20) * 0.5, -3 + (i % 30) * 0.4) if i % 3 == 0 else None,
            color=(i % 256, (i * 7) % 256, (i * 13) % 256),
        )
    make_photo(folder / os.fsdecode(b"caf\xe9 \xff.jpg"), taken="2019:05:05 05:05:05")
    register()
    Image.new("RGB", (64, 48), (10, 20, 30)).save(folder / "phone.heic", format="HEIF")
    tiny_mp4(folder / "clip.mp4")
    return folder


@pytest.fixture(scope="module")
def browser():
    sync_playwright = _browser_or_skip()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, gallery):
    """The gallery's page, opened from file://, with every console error, page error and
    request to the network recorded (such requests are aborted)."""
    out, _ = gallery
    context = browser.new_context(viewport={"width": 1280, "height": 800}, has_touch=True)
    opened = context.new_page()
    opened.errors = []  # type: ignore[attr-defined]
    opened.network = []  # type: ignore[attr-defined]
    opened.on("console", lambda m: m.type == "error" and opened.errors.append(m.text))
    opened.on("pageerror", lambda e: opened.errors.append(str(e)))

    def refuse(route):
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            opened.network.append(route.request.url)
            route.abort()

    context.route("**/*", refuse)
    opened.goto((out / "index.html").as_uri())
    yield opened
    context.close()


# Every wait_for_function below is given a function, not an expression: Playwright
# evaluates an expression with eval(), which the page's policy forbids (no 'unsafe-eval').


def _show_every_tile(page, total: int) -> None:
    """Scroll to the bottom until the grid has built `total` tiles (it builds them a chunk
    at a time, as the bottom comes near)."""
    deadline = time.monotonic() + 20  # generous: the suite may share the CPU
    while page.locator(".tile").count() < total and time.monotonic() < deadline:
        page.mouse.wheel(0, 20000)
        page.wait_for_timeout(50)
    assert page.locator(".tile").count() >= total


def _save(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path))
    print(f"screenshot: {path}")
    return path


def test_the_grid_shows_every_photo_lazily_with_no_broken_image(page, gallery):
    _, data = gallery
    total = len(data["items"])
    first = page.locator(".tile").count()
    assert 0 < first < total  # built a chunk at a time, not all at once
    assert page.locator(".tile img[loading=lazy]").count() == page.locator(".tile img").count()
    _save(page, "gallery-grid.png")
    _show_every_tile(page, total)
    # Every thumbnail loaded for real: load the lazy ones now, then look at each.
    page.evaluate("document.querySelectorAll('.tile img').forEach(i => i.loading = 'eager')")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.tile img')].every(i => i.complete)", timeout=20000
    )
    broken = page.evaluate(
        "[...document.querySelectorAll('.tile img')]"
        ".filter(i => i.naturalWidth === 0).map(i => i.getAttribute('src'))"
    )
    assert broken == []
    assert page.locator(".tile img").count() == sum(1 for i in data["items"] if i.get("thumb"))
    portrait = next(i for i in data["items"] if i["name"] == "p0004.jpg")
    assert portrait["h"] > portrait["w"]
    assert page.errors == [] and page.network == []


def test_the_viewer_opens_steps_and_closes_with_the_keyboard_and_swipes(page, gallery):
    _, data = gallery
    total = len(data["items"])
    page.locator(".tile").first.click()
    viewer = page.locator("#viewer")
    assert viewer.is_visible()
    assert f"1 / {total}" in page.locator("#caption").inner_text()
    page.wait_for_function("() => document.querySelector('#stage img').naturalWidth > 0")
    _save(page, "gallery-viewer.png")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert f"3 / {total}" in page.locator("#caption").inner_text()
    page.keyboard.press("ArrowLeft")
    assert f"2 / {total}" in page.locator("#caption").inner_text()
    second = data["items"][1]
    assert second["date"][:10] in page.locator("#caption").inner_text()
    # A swipe to the left shows the next one.
    page.evaluate(
        """() => {
        const stage = document.getElementById('stage');
        const at = x => [new Touch({identifier: 1, target: stage, clientX: x, clientY: 300})];
        stage.dispatchEvent(new TouchEvent('touchstart', {touches: at(600), bubbles: true}));
        stage.dispatchEvent(new TouchEvent('touchend', {changedTouches: at(400), bubbles: true}));
        }"""
    )
    assert f"3 / {total}" in page.locator("#caption").inner_text()
    page.keyboard.press("Escape")
    assert viewer.is_hidden()
    assert page.errors == [] and page.network == []


def test_metadata_text_is_shown_as_text(page, gallery):
    _, data = gallery
    index = next(n for n, i in enumerate(data["items"]) if i.get("description"))
    _show_every_tile(page, index + 1)
    page.locator(f'.tile[data-index="{index}"]').click()
    assert SCRIPT_DESCRIPTION in page.locator("#caption").inner_text()
    assert page.evaluate("window.pwned") is None
    odd = next(n for n, i in enumerate(data["items"]) if i["name"].startswith("caf"))
    page.keyboard.press("Escape")
    _show_every_tile(page, odd + 1)
    page.locator(f'.tile[data-index="{odd}"]').click()
    assert "caf\\xe9 \\xff.jpg" in page.locator("#caption").inner_text()
    assert page.errors == [] and page.network == []


def test_the_video_and_the_heic_are_shown(page, gallery):
    _, data = gallery
    kinds = {i["name"]: i for i in data["items"]}
    clip = kinds["clip.mp4"]
    assert clip["kind"] == "video" and clip["playable"] and clip["original"]
    assert kinds["phone.heic"]["kind"] == "photo" and kinds["phone.heic"]["thumb"]
    video = data["items"].index(clip)
    _show_every_tile(page, video + 1)
    page.locator(f'.tile[data-index="{video}"]').click()
    # The original (H.264 in MP4) plays in <video>: Chromium read its first frames.
    page.wait_for_function("() => document.querySelector('#stage video').readyState >= 2")
    assert page.evaluate("document.querySelector('#stage video').duration") > 1
    assert page.errors == [] and page.network == []


def test_the_map_shows_a_marker_per_located_photo_without_tiles(page, gallery):
    _, data = gallery
    located = [i for i in data["items"] if "lat" in i]
    assert len(located) == len(range(0, PHOTOS - 3, 3))
    page.locator("#show-map").click()
    page.wait_for_selector("path.luna-marker")
    assert page.locator("path.luna-marker").count() == len(located)
    assert page.locator(".leaflet-tile").count() == 0  # no tile: nothing to fetch
    assert page.locator("path.leaflet-interactive, path").count() > len(located)  # countries
    _save(page, "gallery-map.png")
    page.locator("path.luna-marker").first.click(force=True)
    assert page.locator("#viewer").is_visible()
    assert page.errors == [] and page.network == []


def test_no_request_leaves_the_page(page, gallery):
    """The page asked for nothing on the network, and its policy forbids it: a request
    made from the page is refused by Chromium itself before it could be routed."""
    page.evaluate(
        "() => { const i = new Image(); i.src = 'https://example.com/x.png';"
        " document.body.appendChild(i); }"
    )
    page.wait_for_timeout(200)
    assert page.network == []  # blocked by the Content-Security-Policy, never requested
    assert any("Content Security Policy" in e for e in page.errors)
