"""PyInstaller runtime hook of the Hallmark app: runs before the entry point imports Numba.

Numba keeps compiled kernels in an on-disk cache (``cache=True``). The bundle's folder may
be read-only (Program Files, /opt, a signed .app) and Numba's fallback is a folder of its
own, so the cache goes to Hallmark's writable per-user cache folder, the one ``hallmark
gui`` uses from a source install. A NUMBA_CACHE_DIR already set wins. The spec ships
``fingerprint/_kernels.py`` as a source file: Numba honours NUMBA_CACHE_DIR only for
functions whose source file exists.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

import platformdirs

APPLICATION = "hallmark"  # app.settings.APPLICATION, without importing Qt this early


def numba_cache_dir() -> str:
    """Hallmark's per-user cache folder for Numba, e.g. ``~/.cache/hallmark/numba``."""
    return str(platformdirs.user_cache_path(APPLICATION) / "numba")


def set_numba_cache_dir(environ: MutableMapping[str, str]) -> None:
    """Point Numba at :func:`numba_cache_dir` unless ``environ`` already names a folder."""
    if not environ.get("NUMBA_CACHE_DIR"):
        environ["NUMBA_CACHE_DIR"] = numba_cache_dir()


set_numba_cache_dir(os.environ)
