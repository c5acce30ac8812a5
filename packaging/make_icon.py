"""Render ``resources/icons/hallmark.svg`` to ``hallmark.png`` (256×256) with QtSvg.

PyInstaller turns the PNG into the Windows ``.ico`` and macOS ``.icns`` at build time
(through Pillow); Linux desktops use the SVG or the PNG. Run from the repository root::

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/make_icon.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

SIZE = 256


def main(icons: Path) -> int:
    _app = QGuiApplication(sys.argv[:1])  # QSvgRenderer needs one (fonts)
    renderer = QSvgRenderer(str(icons / "hallmark.svg"))
    if not renderer.isValid():
        print(f"cannot read {icons / 'hallmark.svg'}", file=sys.stderr)
        return 1
    image = QImage(SIZE, SIZE, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    out = icons / "hallmark.png"
    if not image.save(str(out)):
        print(f"cannot write {out}", file=sys.stderr)
        return 1
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(__file__).resolve().parents[1] / "resources" / "icons"))
