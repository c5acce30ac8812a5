"""Drive the phone page in headless Chromium, as a phone would, and screenshot it.

Chromium is steered over the DevTools protocol on a pipe (``--remote-debugging-pipe``:
NUL-terminated JSON on its fds 3 and 4), so only the standard library is needed. Files
are "picked" with ``DOM.setFileInputFiles``, which fires the input's ``change`` event
like a person choosing photos; the camera is Chromium's fake device.

Run as a script to refresh the screenshots in ``docs/screenshots/``::

    .venv/bin/python tests/app/capture/phone_browser.py docs/screenshots
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Self

PHONE_SIZE = (390, 844)  # CSS pixels of a current mid-size phone
LAN_NAME = "phone.test"  # resolved to 127.0.0.1 inside Chromium: an insecure LAN origin


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Browser:
    """One headless Chromium with one page, steered over the DevTools pipe."""

    def __init__(self, executable: str) -> None:
        self._executable = executable
        self._buffer = b""
        self._next_id = 0
        self._session = ""

    def __enter__(self) -> Self:
        self._profile = tempfile.TemporaryDirectory(prefix="hallmark-chromium-")
        flags = [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run",
            f"--user-data-dir={self._profile.name}", "--remote-debugging-pipe",
            "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--host-resolver-rules=MAP {LAN_NAME} 127.0.0.1", "--hide-scrollbars",
        ]  # fmt: skip
        # The shell hands our pipes to Chromium as fds 3 (commands) and 4 (answers).
        shell = 'exec "$0" "$@" 3<&0 4>&1 </dev/null >/dev/null'
        self._process = subprocess.Popen(
            ["sh", "-c", shell, self._executable, *flags],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its helper processes too, stopped together on exit
        )
        target = self._call("Target.createTarget", url="about:blank")["targetId"]
        attached = self._call("Target.attachToTarget", targetId=target, flatten=True)
        self._session = attached["sessionId"]
        width, height = PHONE_SIZE
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                  deviceScaleFactor=1, mobile=True)  # fmt: skip
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # Chromium's helper processes can still write to the profile after the browser
        # exits: stop the whole process group before removing it.
        self._process.terminate()
        self._process.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGKILL)
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.close()
        self._process.stdout.close()
        self._profile.cleanup()

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """A DevTools command to the page; its result."""
        return self._call(method, sessionId=self._session, **params)

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page, awaiting promises."""
        reply = self.call(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in reply:
            raise RuntimeError(f"{expression!r} threw: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def wait_for(self, condition: str, timeout_ms: int = 15_000) -> None:
        """Wait, inside the page, until the JavaScript ``condition`` holds."""
        self.evaluate(
            "new Promise((resolve, reject) => {"
            f"  const deadline = Date.now() + {timeout_ms};"
            "  const poll = () => {"
            f"    if ({condition}) resolve(true);"
            f"    else if (Date.now() > deadline) reject(new Error('timed out: ' + {condition!r}));"
            "    else setTimeout(poll, 25);"
            "  };"
            "  poll();"
            "})"
        )

    def open(self, url: str) -> None:
        self.call("Page.enable")
        self.call("Page.navigate", url=url)
        self.wait_for("document.readyState === 'complete' && !!document.getElementById('results')")

    def choose_files(self, selector: str, files: list[Path]) -> None:
        root = self.call("DOM.getDocument")["root"]["nodeId"]
        node = self.call("DOM.querySelector", nodeId=root, selector=selector)["nodeId"]
        self.call("DOM.setFileInputFiles", nodeId=node, files=[str(f) for f in files])

    def results(self, count: int) -> list[str]:
        """Each photo's status line, newest first, once ``count`` photos have an answer."""
        settled = "#results li.accepted, #results li.rejected"
        self.wait_for(f"document.querySelectorAll({settled!r}).length >= {count}")
        return list(
            self.evaluate(
                "[...document.querySelectorAll('#results .status')].map(s => s.textContent)"
            )
        )

    def screenshot(self, path: Path, *, full_page: bool = False) -> None:
        if full_page:
            height = self.evaluate("document.documentElement.scrollHeight")
            self.call("Emulation.setDeviceMetricsOverride", width=PHONE_SIZE[0],
                      height=max(height, PHONE_SIZE[1]), deviceScaleFactor=1,
                      mobile=True)  # fmt: skip
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))

    def _call(self, method: str, **params: Any) -> dict[str, Any]:
        assert self._process.stdin is not None
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method}
        if "sessionId" in params:
            message["sessionId"] = params.pop("sessionId")
        message["params"] = params
        self._process.stdin.write(json.dumps(message).encode() + b"\0")
        self._process.stdin.flush()
        deadline = time.monotonic() + 30
        while True:
            reply = self._receive(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method} failed: {reply['error']}")
                return dict(reply["result"])

    def _receive(self, deadline: float) -> dict[str, Any]:
        assert self._process.stdout is not None
        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([self._process.stdout], [], [], max(remaining, 0))
            if not ready:
                raise TimeoutError("Chromium did not answer within 30 s")
            chunk = os.read(self._process.stdout.fileno(), 1 << 16)
            if not chunk:
                raise EOFError("Chromium closed the DevTools pipe")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return dict(json.loads(message))


def _refresh_screenshots(out: Path) -> None:
    """The two screenshots in docs/: over the LAN (plain HTTP) and in a secure context."""
    import cv2
    import numpy as np

    from app.capture.phone import PhoneSource
    from fingerprint.synth import Material, capture, make_item

    executable = chromium()
    if executable is None:
        raise SystemExit("chromium is not installed")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        rng = np.random.default_rng(4)
        photos = []
        for index, material in enumerate((Material.PAPER, Material.PLASTIC)):
            photo = Path(scratch) / f"IMG_20{index + 31}.jpg"
            cv2.imwrite(str(photo), capture(make_item(rng, material, index + 1), rng))
            photos.append(photo)
        not_a_photo = Path(scratch) / "receipt.jpg"
        not_a_photo.write_bytes(b"%PDF-1.7 a receipt, not a photo")

        phone = PhoneSource(host="127.0.0.1", advertise_host=LAN_NAME)
        with phone, Browser(executable) as browser:
            browser.open(phone.url())
            browser.choose_files("#gallery", [photos[0], not_a_photo, photos[1]])
            print("\n".join(browser.results(3)))
            browser.screenshot(out / "phone_page.png")

        phone = PhoneSource(host="127.0.0.1")  # 127.0.0.1 is a secure context: live preview
        with phone, Browser(executable) as browser:
            browser.open(phone.url())
            browser.wait_for("document.getElementById('preview').currentTime > 0.5")
            browser.evaluate("document.getElementById('shoot').click()")
            print("\n".join(browser.results(1)))
            browser.screenshot(out / "phone_page_live.png", full_page=True)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
    _refresh_screenshots(Path(sys.argv[1]))
