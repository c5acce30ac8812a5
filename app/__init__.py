"""Hallmark's applications: the command line and the desktop app."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hallmark")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
