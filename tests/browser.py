"""A real headless Chromium for tests, driven through chromedriver's W3C WebDriver HTTP
interface with the standard library (no client package): open a page, run a script in it.

``Browser.find()`` returns None (with the reason in ``Browser.missing``) when Chromium or
chromedriver is not installed (Debian: ``apt-get install chromium chromium-driver``)."""
from __future__ import annotations

import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--window-size=1200,900"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    """One chromedriver process and one Chromium session; a context manager that ends
    both (the session, then the driver process it started, by its own handle)."""

    missing = ""

    def __init__(self, chromium: str, driver: str) -> None:
        self.chromium, self.driver = chromium, driver
        self.profile = tempfile.TemporaryDirectory(prefix="chromium-profile-")
        self.port = _free_port()
        self.proc = subprocess.Popen([driver, f"--port={self.port}"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{self.port}"
        self.session = None

    @classmethod
    def find(cls) -> "Browser | None":
        chromium = next((p for p in map(shutil.which, CHROMIUM_NAMES) if p), None)
        driver = shutil.which("chromedriver")
        if not chromium or not driver:
            cls.missing = (f"headless Chromium not installed ({'chromium' if not chromium else 'chromedriver'} "
                           f"not on PATH): apt-get install chromium chromium-driver")
            return None
        return cls(chromium, driver)

    def _call(self, method: str, path: str, body: dict | None = None, timeout: float = 60):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.loads(resp.read())["value"]

    def __enter__(self) -> "Browser":
        deadline = time.monotonic() + 30       # chromedriver starts in well under a second
        while True:
            try:
                if self._call("GET", "/status", timeout=2).get("ready"):
                    break
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("chromedriver did not start within 30 s")
            time.sleep(0.1)
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome", "pageLoadStrategy": "normal",
            "goog:chromeOptions": {"binary": self.chromium,
                                   "args": FLAGS + [f"--user-data-dir={self.profile.name}"]}}}}
        self.session = self._call("POST", "/session", caps)["sessionId"]
        return self

    def open(self, path: Path) -> None:
        """Load a local file and wait for its load event (images included)."""
        self._call("POST", f"/session/{self.session}/url", {"url": path.resolve().as_uri()})

    def run(self, script: str):
        """Return the value of ``script`` (a function body with ``return``) in the page."""
        return self._call("POST", f"/session/{self.session}/execute/sync",
                          {"script": script, "args": []})

    def __exit__(self, *exc) -> None:
        try:
            if self.session:
                self._call("DELETE", f"/session/{self.session}", timeout=10)
        except (urllib.error.URLError, OSError):
            pass
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.profile.cleanup()
