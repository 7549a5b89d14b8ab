"""`make run`'s /docs and /redoc work with no internet: every script, style and icon comes from the local server."""

import re
import shutil
import subprocess
from html.parser import HTMLParser

import httpx
import pytest

pytestmark = pytest.mark.integration
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# No name resolves but the loopback address: a page that needs a CDN cannot load it.
OFFLINE = "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic", OFFLINE]


class _Refs(HTMLParser):
    """Every URL the page loads by itself: <script src>, <link href>, <img src>."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "img") and a.get("src"):
            self.urls.append(a["src"])
        elif tag == "link" and a.get("href"):
            self.urls.append(a["href"])


def _refs(html: str) -> list[str]:
    parser = _Refs()
    parser.feed(html)
    return parser.urls


@pytest.mark.parametrize("page, bundle", [("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")])
def test_the_docs_page_and_every_asset_it_references_are_served_locally(local_api, page, bundle):
    html = httpx.get(local_api.base + page, timeout=10)
    assert html.status_code == 200 and "text/html" in html.headers["content-type"]
    assert re.findall(r"(?:https?:)?//[\w.-]+", html.text) == []  # no host at all: no CDN, no web fonts
    urls = _refs(html.text)
    assert any(u.endswith(bundle) for u in urls), urls
    for url in urls:
        assert url.startswith("/"), url
        asset = httpx.get(local_api.base + url, timeout=10)
        assert asset.status_code == 200 and len(asset.content) > 1000, url
    spec = re.search(r"""(?:url: |spec-url=)['"]([^'"]+)['"]""", html.text).group(1)
    assert "/api/v1/plan/llm" in httpx.get(local_api.base + spec, timeout=10).json()["paths"]


def test_swagger_ui_renders_every_operation_in_chromium_with_no_network(local_api, tmp_path):
    if CHROMIUM is None:
        pytest.fail("chromium is not installed: .ci/run installs Debian's chromium; locally `apt-get install chromium`")
    dom = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=20000",
                          "--dump-dom", f"{local_api.base}/docs"], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    spec = httpx.get(f"{local_api.base}/openapi.json", timeout=10).json()
    rendered = set(re.findall(r'class="opblock-summary-path" data-path="([^"]+)"', dom.stdout))
    assert rendered == set(spec["paths"]), (sorted(rendered), sorted(spec["paths"]))
