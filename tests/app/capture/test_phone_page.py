"""The phone page in a real browser (headless Chromium): pairing, picking photos, the
live preview and its Capture button, each photo's answer, and a screenshot."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import pytest
from capture_samples import jpeg, marker
from phone_browser import LAN_NAME, PHONE_SIZE, Browser, chromium

from app.capture.phone import PhoneSource

if chromium() is None:  # .ci/run installs it; elsewhere the test is skipped, said why
    if os.environ.get("CI") == "true":
        pytest.fail("CI=true and the phone page test cannot run: chromium is not installed")
    pytest.skip("chromium is not installed", allow_module_level=True)


def test_the_phone_page_in_a_real_browser(tmp_path: Path) -> None:
    photo, receipt = tmp_path / "IMG_0001.jpg", tmp_path / "receipt.jpg"
    photo.write_bytes(jpeg(3))
    receipt.write_bytes(b"%PDF-1.7 a receipt, not a photo")
    executable = chromium()
    assert executable is not None
    phone = PhoneSource(host="127.0.0.1", advertise_host=LAN_NAME)
    with phone, Browser(executable) as browser:
        # Over the LAN the page is not a secure context: no live preview, say why.
        browser.open(phone.url())
        assert browser.evaluate("document.getElementById('live').hidden") is True
        note = browser.evaluate("document.getElementById('live-note').textContent")
        assert "needs a secure (HTTPS) connection" in note

        browser.choose_files("#gallery", [photo, receipt])
        assert browser.results(2) == [  # newest first
            "Rejected: Not a photo: send a JPEG, PNG or WebP image.",
            "Accepted as photo 1 (96×64)",
        ]
        frame = phone.read(timeout=5)
        assert frame is not None and marker(frame.image) == 3
        device = phone.status().device
        assert device is not None and "HeadlessChrome" in device

        browser.screenshot(tmp_path / "phone_page.png")
        shot = cv2.imread(str(tmp_path / "phone_page.png"))
        assert shot is not None and shot.std() > 10
        assert shot.shape[:2] == (PHONE_SIZE[1], PHONE_SIZE[0])

        # 127.0.0.1 is a secure context: the live preview runs on Chromium's fake camera.
        browser.open(phone.renew().replace(LAN_NAME, "127.0.0.1"))
        browser.wait_for("document.getElementById('preview').currentTime > 0.5")
        browser.evaluate("document.getElementById('shoot').click()")
        assert browser.results(1)[0].startswith("Accepted as photo 2 (")
        captured = phone.read(timeout=5)
        assert captured is not None and captured.index == 1
        assert captured.image.shape[:2] == (1080, 1920) and captured.image.max() > 0
