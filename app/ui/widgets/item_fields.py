"""The item typed by hand, for a capture whose code cannot be read: serial and GTIN."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QWidget

from app.flows.verify import TypedItemError, typed_item


class ItemFields(QWidget):
    """A serial field (which also takes ``(01)GTIN(21)serial``) and a GTIN field.

    Left blank, the decoded code's values are used; `typed` raises `TypedItemError`
    for a GTIN with a wrong check digit or a malformed element string.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.serial = QLineEdit()
        self.serial.setPlaceholderText("read from the code, or (01)GTIN(21)serial")
        self.serial.setToolTip("The item's serial, or its whole GS1 element string")
        self.gtin = QLineEdit()
        self.gtin.setPlaceholderText("read from the code")
        self.gtin.setToolTip("GTIN-8, -12, -13 or -14; its check digit is verified")
        serial_label, gtin_label = QLabel("S&erial:"), QLabel("&GTIN:")
        serial_label.setBuddy(self.serial)
        gtin_label.setBuddy(self.gtin)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (serial_label, self.serial, gtin_label, self.gtin):
            layout.addWidget(widget)
        self.setTabOrder(self.serial, self.gtin)

    def typed(self) -> tuple[str | None, str | None]:
        """``(gtin, serial)`` as typed, ``None`` where blank (`typed_item`)."""
        return typed_item(self.serial.text(), self.gtin.text())

    def for_capture(self, *, code_read: bool) -> tuple[str | None, str | None] | None:
        """`typed`, for a capture whose code was (or was not) read; ``None`` when no code
        was read and nothing typed: the item cannot be looked up.

        Raises `TypedItemError` also when no code was read and only half is typed.
        """
        gtin, serial = self.typed()
        if code_read or (gtin is not None and serial is not None):
            return gtin, serial
        if gtin is None and serial is None:
            return None
        raise TypedItemError("no code read: type the GTIN and the serial, or (01)GTIN(21)serial")
