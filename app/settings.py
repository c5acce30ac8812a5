"""Typed access to what the app remembers between runs, over ``QSettings``.

Keys live here and nowhere else; callers get and set typed values. Tests isolate it with
``QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tmp)``.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings

ORGANIZATION = "Hallmark"
APPLICATION = "hallmark"

_GEOMETRY = "window/geometry"
_STATE = "window/state"
_PAGE = "window/page"
_FOLDER = "files/last_folder"


class Settings:
    """The app's remembered state: window geometry and page, the last folder used."""

    def __init__(self, store: QSettings) -> None:
        self._store = store

    @classmethod
    def open(cls, organization: str = ORGANIZATION) -> Settings:
        """The user's settings file (INI format, user scope)."""
        return cls(
            QSettings(
                QSettings.Format.IniFormat, QSettings.Scope.UserScope, organization, APPLICATION
            )
        )

    @property
    def geometry(self) -> QByteArray:
        """``QWidget.saveGeometry()`` of the main window; empty when never saved."""
        return self._bytes(_GEOMETRY)

    @geometry.setter
    def geometry(self, value: QByteArray) -> None:
        self._store.setValue(_GEOMETRY, value)

    @property
    def window_state(self) -> QByteArray:
        """``QMainWindow.saveState()``: toolbars and docks; empty when never saved."""
        return self._bytes(_STATE)

    @window_state.setter
    def window_state(self, value: QByteArray) -> None:
        self._store.setValue(_STATE, value)

    @property
    def page(self) -> int:
        """Index of the page shown last."""
        value = self._store.value(_PAGE, 0)
        return int(value) if isinstance(value, int | str) and str(value).isdigit() else 0

    @page.setter
    def page(self, value: int) -> None:
        self._store.setValue(_PAGE, value)

    @property
    def last_folder(self) -> str:
        """The folder a file dialog opened last; empty at first."""
        value = self._store.value(_FOLDER, "")
        return value if isinstance(value, str) else ""

    @last_folder.setter
    def last_folder(self, value: str) -> None:
        self._store.setValue(_FOLDER, value)

    def sync(self) -> None:
        """Write pending changes to disk."""
        self._store.sync()

    def _bytes(self, key: str) -> QByteArray:
        value = self._store.value(key, QByteArray())
        return value if isinstance(value, QByteArray) else QByteArray()
