"""Screenshots of the desktop app's pages in realistic states, for docs/screenshots/.

Run offscreen with a throwaway home (nothing touches the real one)::

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/screenshots.py docs/screenshots
    QT_QPA_PLATFORM=offscreen QT_SCALE_FACTOR=1.25 .venv/bin/python scripts/screenshots.py \
        /tmp/shots-125

Makes a first-run ledger, enrols a synthetic item, and grabs: the Verify page with a
genuine and with a counterfeit verdict (evidence, scan history and its warning), a
retake with the live guidance, the Enrol page mid-batch and with the line camera
running, the Inspect page with a bundle loaded and a capture verified offline, the
Ledger page with an item proven and the log audited, the Settings page, and the
certificate of the offline verification as its PDF page shows it.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

WINDOW = (1240, 820)


def main(out: Path) -> int:
    home = Path(tempfile.mkdtemp(prefix="hallmark-shots-"))
    for name in ("XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME"):
        os.environ[name] = str(home / name.lower())
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    import cv2
    import numpy as np
    from PySide6.QtCore import QSettings, QThreadPool
    from PySide6.QtTest import QSignalSpy, QTest
    from PySide6.QtWidgets import QApplication, QProgressBar

    from app.capture.video import VideoFile
    from app.flows.enrol import enrol
    from app.jobs import Places
    from app.settings import Settings
    from app.ui.main_window import MainWindow
    from app.ui.refcounts import pin_singletons
    from app.ui.ui_thread_gc import UiThreadCollector
    from app.ui.widgets.capture_panel import Mode
    from fingerprint.synth import Material, Tier, capture, make_item, print_copy
    from registry_client.bundle import Selection, SelectionKind, export_bundle
    from registry_client.embedded import LOG_SKEY
    from registry_client.note import SignerKey

    pin_singletons()
    app = QApplication(sys.argv[:1])
    UiThreadCollector(app)  # as `hallmark gui` does: app/ui/ui_thread_gc.py
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(home / "ini"))

    def wait(done: Callable[[], bool], what: str) -> None:
        for _ in range(3000):
            if done():
                return
            QTest.qWait(10)
        raise TimeoutError(f"waited 30 s for {what}")

    def shot(name: str) -> None:
        QTest.qWait(50)
        path = out / f"{name}.png"
        window.grab().save(str(path))
        print(f"wrote {path}")

    out.mkdir(parents=True, exist_ok=True)
    window = MainWindow(Places.default(), QThreadPool.globalInstance(), Settings.open("Shots"))
    window.resize(*WINDOW)
    window.show()
    window.start()
    wait(lambda: window.workspace is not None, "the ledger")
    ws = window.workspace
    assert ws is not None

    rng = np.random.default_rng(5)
    item = make_item(rng, Material.PAPER, 7)
    enrol(capture(item, rng, Tier.EASY), signer=ws.signer, registry=ws.registry)
    images = home / "images"
    images.mkdir()
    files = {
        "genuine": capture(item, rng, Tier.EASY),
        "copy": capture(print_copy(item, rng), rng, Tier.EASY),
        **{
            f"line-{n:02d}": capture(make_item(rng, Material.PAPER, 100 + n), rng) for n in range(8)
        },
    }
    for name, image in files.items():
        cv2.imwrite(str(images / f"{name}.png"), image)
    (images / "line-03.png").write_bytes(b"truncated")

    cv2.imwrite(
        str(images / "shaken.png"), cv2.GaussianBlur(capture(item, rng, Tier.EASY), (0, 0), 5.0)
    )
    line_video = images / "line.avi"
    writer = cv2.VideoWriter(str(line_video), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, (640, 480))
    on_line = [make_item(rng, Material.PAPER, 300 + n) for n in range(7)]
    for passing in [*on_line[:3], on_line[0], *on_line[3:]]:  # the first comes round again
        for _ in range(4):
            writer.write(capture(passing, rng, Tier.EASY, (640, 480)))
        writer.write(np.full((480, 640, 3), 100, np.uint8))
    writer.release()

    verified = QSignalSpy(window.verify_page.verified)
    places = {"genuine": "Shop 12, Lyon", "copy": "Market stall, Marseille"}
    for count, (name, verdict) in enumerate((("genuine", "GENUINE"), ("copy", "COUNTERFEIT"))):
        window.verify_page.place.setText(places[name])
        window.verify_page.open_image(images / f"{name}.png")
        wait(lambda n=count: verified.count() > n, name)
        shown = window.verify_page.result.badge.title()
        if shown != verdict:
            raise RuntimeError(f"{name} capture shows {shown}, want {verdict}")
        shot(f"verify_{verdict.lower()}")
    window.verify_page.open_image(images / "shaken.png")
    wait(lambda: window.verify_page.result.badge.title() == "RETAKE", "the retake")
    shot("verify_retake")

    window.tabs.setCurrentWidget(window.enrol_page)
    batch_done = QSignalSpy(window.enrol_page.batch_finished)
    window.enrol_page.enrol_paths(sorted(images.glob("line-*.png")))
    bar = window.enrol_page.findChild(QProgressBar)
    wait(lambda: bar.value() >= 5, "the batch to get going")
    shot("enrol_batch")
    wait(lambda: batch_done.count() > 0, "the batch to finish")
    line_done = QSignalSpy(window.enrol_page.line_finished)
    window.enrol_page.start_line()
    window.enrol_page.capture.open_source(VideoFile(line_video), Mode.PLAYED)
    live = window.enrol_page.capture.live

    def item_in_view_after_a_reject() -> bool:
        analysis = live.analysis()
        return window.enrol_page.log.count() > 0 and analysis is not None and analysis.ok

    wait(item_in_view_after_a_reject, "the line")
    shot("enrol_line")
    wait(lambda: line_done.count() > 0, "the line to finish")

    bundle = home / "items.hmb"
    export_bundle(
        ws.places.ledger,
        bundle,
        Selection(kind=SelectionKind.MANUFACTURER, values=(ws.key.key.reference,)),
        policy=ws.policy,
        signer=SignerKey.parse((ws.places.ledger / LOG_SKEY).read_text().strip()),
        expires=timedelta(days=30),
        warn_after=timedelta(days=14),
    )
    window.tabs.setCurrentWidget(window.inspect_page)
    opened = QSignalSpy(window.inspect_page.opened)
    window.inspect_page.open_bundle(bundle)
    wait(lambda: opened.count() > 0, "the bundle")
    window.inspect_page.verify_capture(images / "genuine.png")
    wait(lambda: window.inspect_page.result.badge.title() == "GENUINE", "offline verdict")
    shot("inspect_bundle")

    # Ledger: an item opened and proven, the whole log audited.
    from app.flows.ledger_browse import Kind
    from app.ui.certificate_pdf import page_image

    ledger = window.ledger_page
    window.tabs.setCurrentWidget(ledger)
    ledger.refresh()

    def first_product() -> int | None:
        rows = (ledger.model.row_at(r) for r in range(ledger.model.rowCount()))
        return next((n for n, row in enumerate(rows) if row and row.kind is Kind.PRODUCT), None)

    wait(lambda: first_product() is not None, "a product entry")
    shown = QSignalSpy(ledger.item_shown)
    ledger.table.selectRow(first_product() or 0)
    wait(lambda: shown.count() > 0, "the item's proof")
    checked = QSignalSpy(ledger.checked)
    ledger.full_audit()
    wait(lambda: checked.count() > 0, "the audit")
    shot("ledger_audit")

    # Settings, with the signing key selected.
    window.tabs.setCurrentWidget(window.settings_page)
    window.settings_page.list_cameras()
    window.settings_page.keys.setCurrentItem(window.settings_page.keys.topLevelItem(0))
    shot("settings")

    # The certificate of the offline verification, as its PDF page shows it.
    exported = QSignalSpy(window.certificate.exported)
    window.certificate.export(home / "certificate.pdf")
    wait(lambda: exported.count() > 0, "the certificate")
    page_image(exported.at(0)[0], 1000).save(str(out / "certificate.png"))
    print(f"wrote {out / 'certificate.png'} (from {home / 'certificate.pdf'})")
    window.close()
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/screenshots")))
