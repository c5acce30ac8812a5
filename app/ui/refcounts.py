"""A guard against PySide6 6.12.0 dropping references to None, True and False.

On Python 3.11, PySide6 6.12.0 returns ``None`` from a void method without a new
reference, so each call takes one from ``None``'s count (measured: 1,000
``QWidget.update()`` calls take 1,000), and bool results and arguments do the same to
``True`` and ``False``. A live view makes thousands of such calls a minute; once a count
reaches zero the interpreter aborts ("none_dealloc" / "bool_dealloc"), at the latest when
it exits. From Python 3.12 these objects are immortal (PEP 683) and nothing is lost.
"""

from __future__ import annotations

import ctypes
import sys

_MARGIN = 1 << 40
"""References added: more calls than an app makes in years."""


def pin_singletons() -> None:
    """Raise the reference counts of ``None``, ``True`` and ``False`` out of reach.

    Call once, before creating the ``QApplication``; a no-op from Python 3.12.
    """
    if sys.version_info >= (3, 12):
        return
    for singleton in (None, True, False):
        ctypes.c_ssize_t.from_address(id(singleton)).value += _MARGIN
