"""Frames for the app: one ``FrameSource`` seam and its sources.

Qt-free: ``source`` (``Frame``, ``FrameSource``), ``errors``, ``files`` (``ImageFiles``),
``video`` (``VideoFile``), ``mjpeg`` (``MjpegUrl``), ``phone`` (``PhoneSource``, phone
capture without an app, gated by ``pairing``), plus ``decode`` and ``buffer``.
Qt: ``camera`` (``QtCamera``, ``list_cameras``) and ``feed`` (``FrameFeed``, frames to
the UI thread). Import from the modules; this package imports nothing, so using a
Qt-free source never loads Qt.
"""
