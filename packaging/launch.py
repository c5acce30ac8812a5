"""Entry point of the frozen app: the ``hallmark`` command; with no arguments, the GUI
(a double-clicked app, a Start-menu shortcut, a macOS .app)."""

import sys

from app.cli import main

sys.exit(main(sys.argv[1:] or ["gui"]))
