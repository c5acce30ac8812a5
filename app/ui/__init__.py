"""The desktop app's widgets: a main window composing one page per mode."""
