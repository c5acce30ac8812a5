"""Typed access to what the app remembers between runs, over ``QSettings``.

Keys live here and nowhere else; callers get and set typed values. Tests isolate it with
``QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tmp)``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QSettings

if TYPE_CHECKING:
    from fingerprint.params import MatchParams

ORGANIZATION = "Hallmark"
APPLICATION = "hallmark"

_GEOMETRY = "window/geometry"
_STATE = "window/state"
_PAGE = "window/page"
_FOLDER = "files/last_folder"
_REGISTRY = "registry/target"
_POLICY = "registry/policy_file"
_CAMERA = "capture/camera"
_PLACE = "verify/place"
_GENUINE_AT = "thresholds/genuine_at"
_COUNTERFEIT_BELOW = "thresholds/counterfeit_below"


@dataclass(frozen=True, slots=True, kw_only=True)
class Thresholds:
    """The verdict thresholds on the match score (log-odds); see `MatchParams`."""

    genuine_at: float
    counterfeit_below: float

    def __post_init__(self) -> None:
        if not self.counterfeit_below <= self.genuine_at:
            raise ValueError(
                f"counterfeit below {self.counterfeit_below:g} must not exceed "
                f"genuine at {self.genuine_at:g}"
            )

    def params(self) -> MatchParams:
        """The fitted `MatchParams` with these thresholds: what verification decides with."""
        from fingerprint.params import MatchParams  # not at start-up: it loads Numba

        return dataclasses.replace(
            MatchParams(), genuine_at=self.genuine_at, counterfeit_below=self.counterfeit_below
        )

    @classmethod
    def fitted(cls) -> Thresholds:
        """The thresholds fitted on the training set (`fingerprint.params`)."""
        from fingerprint.params import MatchParams  # not at start-up: it loads Numba

        params = MatchParams()
        return cls(genuine_at=params.genuine_at, counterfeit_below=params.counterfeit_below)


class Settings:
    """The app's remembered state: window, last folder, registry, camera, place,
    thresholds."""

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
        return self._text(_FOLDER)

    @last_folder.setter
    def last_folder(self, value: str) -> None:
        self._store.setValue(_FOLDER, value)

    @property
    def registry(self) -> str:
        """The registry to browse and check: a ledger folder or URL; empty for the local
        ledger."""
        return self._text(_REGISTRY)

    @registry.setter
    def registry(self, value: str) -> None:
        self._store.setValue(_REGISTRY, value)

    @property
    def policy_file(self) -> Path | None:
        """The trust policy file for the registry; ``None`` for the registry's own."""
        text = self._text(_POLICY)
        return Path(text) if text else None

    @policy_file.setter
    def policy_file(self, value: Path | None) -> None:
        self._store.setValue(_POLICY, "" if value is None else str(value))

    @property
    def camera(self) -> str:
        """The chosen camera's id (``QCameraDevice.id``); empty for the default camera."""
        return self._text(_CAMERA)

    @camera.setter
    def camera(self, value: str) -> None:
        self._store.setValue(_CAMERA, value)

    @property
    def place(self) -> str:
        """The Verify page's place (a shop's name, or ``lat,lon``); empty at first."""
        return self._text(_PLACE)

    @place.setter
    def place(self, value: str) -> None:
        self._store.setValue(_PLACE, value)

    @property
    def thresholds(self) -> Thresholds:
        """The verdict thresholds; the fitted ones unless changed after an unlock."""
        fitted = Thresholds.fitted()
        try:
            return Thresholds(
                genuine_at=float(self._store.value(_GENUINE_AT, fitted.genuine_at)),  # type: ignore[arg-type]
                counterfeit_below=float(
                    self._store.value(_COUNTERFEIT_BELOW, fitted.counterfeit_below)  # type: ignore[arg-type]
                ),
            )
        except (TypeError, ValueError):  # a hand-edited settings file
            return fitted

    @thresholds.setter
    def thresholds(self, value: Thresholds) -> None:
        self._store.setValue(_GENUINE_AT, value.genuine_at)
        self._store.setValue(_COUNTERFEIT_BELOW, value.counterfeit_below)

    def sync(self) -> None:
        """Write pending changes to disk."""
        self._store.sync()

    def _text(self, key: str) -> str:
        value = self._store.value(key, "")
        return value if isinstance(value, str) else ""

    def _bytes(self, key: str) -> QByteArray:
        value = self._store.value(key, QByteArray())
        return value if isinstance(value, QByteArray) else QByteArray()
