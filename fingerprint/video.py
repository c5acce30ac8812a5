"""Opening a video file with OpenCV's FFmpeg backend, quietly."""

from __future__ import annotations

from pathlib import Path

import cv2


def open_video(path: Path) -> cv2.VideoCapture | None:
    """``path`` opened for reading with OpenCV's FFmpeg backend, or ``None`` when FFmpeg
    cannot decode it (release the capture when done).

    OpenCV logs a warning of its own for a file it cannot open; the callers raise an error
    naming the file and the reason, so that warning is held back while opening.
    """
    level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    try:
        capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    finally:
        cv2.utils.logging.setLogLevel(level)
    if capture.isOpened():
        return capture
    capture.release()
    return None
