"""The HTML report in a real browser: Debian's headless Chromium loads it with no console
errors, fetches nothing but the file itself, decodes every chart, and shows the main sections.

Chromium is driven over the DevTools protocol through `--remote-debugging-pipe` (JSON messages
on file descriptors 3 and 4), so no websocket client is needed. The browser is installed from
Debian by the session fixture when it is missing, as CI does on a fresh machine.
"""

from __future__ import annotations

import fcntl
import importlib.util
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from conftest import REPO, cached_fit

from forecast.analysis.document import build_report
from forecast.render import render

SECTIONS = ("summary", "key-judgements", "forecasts", "history", "influence", "structure",
            "evidence", "diagnostics")
CHARTS = ("forecast-chart", "structure-chart")


def _screenshot_module():
    spec = importlib.util.spec_from_file_location("screenshot", REPO / "scripts" / "screenshot.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


screenshot = _screenshot_module()


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium, installed with apt when missing (never a downloaded browser build)."""
    if not Path(screenshot.CHROMIUM).exists():
        if shutil.which("apt-get") is None or os.geteuid() != 0:
            pytest.fail("chromium is missing and cannot be installed here: run "
                        "`apt-get update && apt-get install -y chromium` as root")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, timeout=900)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env,
                       timeout=1800)
    return screenshot.CHROMIUM


class DevTools:
    """A minimal DevTools-protocol client over Chromium's pipe transport."""

    def __init__(self, profile: Path):
        to_browser_read, self._write = os.pipe()
        self._read, from_browser_write = os.pipe()

        def wire_fds():
            """In the child: the browser reads fd 3 and writes fd 4 (moved out of the way
            first, so neither end can clobber the other)."""
            reading = fcntl.fcntl(to_browser_read, fcntl.F_DUPFD, 10)
            writing = fcntl.fcntl(from_browser_write, fcntl.F_DUPFD, 10)
            os.dup2(reading, 3)
            os.dup2(writing, 4)

        command = screenshot.chromium_command(profile, "--remote-debugging-pipe", "about:blank")
        self.process = subprocess.Popen(command, close_fds=False, preexec_fn=wire_fds,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_browser_read)
        os.close(from_browser_write)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []

    def _receive(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("no message from chromium in time")
            chunk = os.read(self._read, 1 << 16)
            if not chunk:
                raise ConnectionError("chromium closed the DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method: str, session: str | None = None, timeout: float = 60.0, **params) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._receive(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 60.0) -> dict:
        deadline = time.monotonic() + timeout
        for event in self.events:
            if event.get("method") == method:
                return event
        while True:
            event = self._receive(deadline)
            self.events.append(event)
            if event.get("method") == method:
                return event

    def problems(self) -> tuple[list[str], list[str]]:
        """(exceptions, console and log errors or warnings; URLs requested) from the events
        received so far."""
        errors, requests = [], []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                errors.append(f"{details.get('text', '')} "
                              f"{details.get('exception', {}).get('description', '')}")
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert", "warning"):
                errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params["args"]))
            elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
                errors.append(params["entry"]["text"])
            elif method == "Network.requestWillBeSent":
                requests.append(params["request"]["url"])
        return errors, requests

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=10)
        except (OSError, RuntimeError, TimeoutError, ConnectionError):
            pass
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._write)
        os.close(self._read)


PAGE_FACTS = """JSON.stringify({
  title: document.title,
  sections: [...document.querySelectorAll('section[id], header[id]')].map(e => e.id),
  images: [...document.images].map(i => ({id: i.id, complete: i.complete, width: i.naturalWidth,
                                          src: i.src.slice(0, 26)})),
  judgements: document.querySelectorAll('#key-judgements li').length,
  noHistory: !!document.getElementById('no-history'),
  influenceRows: document.querySelectorAll('#influence tbody tr').length,
  evidenceRows: document.querySelectorAll('#evidence-log tbody tr').length,
  scripts: document.scripts.length,
  text: document.body.innerText
})"""


def load_in_chromium(html_path: Path, tmp_path: Path) -> tuple[dict, list[str], list[str]]:
    """(facts about the loaded page, console/log errors, URLs requested)."""
    browser = DevTools(tmp_path / "profile")
    try:
        target = browser.call("Target.createTarget", url="about:blank")["targetId"]
        session = browser.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.call(f"{domain}.enable", session)
        browser.events.clear()
        browser.call("Page.navigate", session, url=html_path.resolve().as_uri())
        browser.wait_for("Page.loadEventFired")
        facts = json.loads(browser.call("Runtime.evaluate", session, expression=PAGE_FACTS,
                                        returnByValue=True)["result"]["value"])
    finally:
        browser.close()
    return (facts, *browser.problems())


HOSTILE = '<script>console.error("injected")</script><img src=x onerror="console.error(1)">'


def fitted_document(data_root) -> dict:
    """The burglary network with two evidence items, one of them hostile markup."""
    csv = data_root / "evidence" / "burglary.csv"
    csv.write_text(csv.read_text() + "E1,alarm,2025-01-02,Blog,C,3,2,,\"" + HOSTILE.replace('"', '""')
                   + "\",\nE2,burglary,2025-01-03,Police,B,2,moderately_for,,A break-in was reported,\n")
    inputs, posterior = cached_fit(data_root, "burglary")
    return build_report(inputs, posterior, seed=1)


def write_html(path: Path, document: dict) -> Path:
    path.write_text(render(document, "html"), encoding="utf-8")
    return path


def test_report_loads_with_no_errors_or_fetches_and_shows_every_section(chromium, data_root, tmp_path):
    document = fitted_document(data_root)
    document["history"] = [
        {"as_of": day, "generated_at": f"{day}T12:00:00+00:00", "evidence_hash": "sha256:x",
         "nodes": [{"id": n["id"], "mean": n["mean"], "interval": n["interval"]} for n in document["nodes"]]}
        for day in ("2025-01-01", "2025-01-08")]
    facts, errors, requests = load_in_chromium(write_html(tmp_path / "report.html", document), tmp_path)
    assert errors == []
    assert [url for url in requests if not url.startswith(("file://", "data:"))] == []
    assert facts["title"].startswith(document["title"])
    assert set(SECTIONS) <= set(facts["sections"])
    images = {image["id"]: image for image in facts["images"]}
    assert set(images) == {*CHARTS, "history-chart"}
    for image in images.values():
        assert image["src"] == "data:image/svg+xml;base64,"
        assert image["complete"] and image["width"] > 200, image
    assert facts["judgements"] == len(document["nodes"])
    assert not facts["noHistory"]
    assert facts["evidenceRows"] == 2
    assert HOSTILE in facts["text"]          # shown as text: escaped, never run
    assert facts["scripts"] == 2             # the what-if data island and its CSP-pinned script


def test_report_without_history_says_so(chromium, data_root, tmp_path):
    document = fitted_document(data_root)
    facts, errors, _requests = load_in_chromium(write_html(tmp_path / "report.html", document), tmp_path)
    assert errors == []
    assert facts["noHistory"]
    assert {image["id"] for image in facts["images"]} == set(CHARTS)


def test_the_browser_check_catches_errors_and_fetches(chromium, tmp_path):
    """The harness itself can fail: a page that throws and fetches is caught on both counts."""
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><title>bad</title><img src="http://127.0.0.1:9/x.png">'
                    '<script>throw new Error("boom")</script>')
    _facts, errors, requests = load_in_chromium(page, tmp_path)
    assert any("boom" in error for error in errors)
    assert "http://127.0.0.1:9/x.png" in requests


def test_screenshot_script_writes_a_picture_of_the_whole_report(chromium, data_root, tmp_path):
    html = write_html(tmp_path / "report.html", fitted_document(data_root))
    png = tmp_path / "report.png"
    result = subprocess.run(["python", str(REPO / "scripts" / "screenshot.py"), str(html), "-o", str(png),
                             "--width", "1100"], capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    from PIL import Image

    with Image.open(png) as image:
        width, height = image.size
        colours = image.convert("RGB").resize((40, 120)).getcolors(maxcolors=5000)
    assert width == 1100 and 1500 < height < 9000     # trimmed to the page, not the window
    assert colours is None or len(colours) > 20       # a rendered page, not a blank
