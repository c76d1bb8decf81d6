"""Guard against the PySide6 6.12.0 bug that drops a reference to None on QPainter calls.

On Python 3.11 None is an ordinary object: every lost reference brings an always-on strip
closer to ``Fatal Python error: none_dealloc``. pyproject pins PySide6 below 6.12 there;
this test fails if a build with the bug is installed anyway.
"""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QImage, QPainter


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from Python 3.12")
def test_painting_does_not_lose_references_to_none(qapp: object) -> None:
    image = QImage(64, 24, QImage.Format.Format_ARGB32)

    def paint() -> None:
        painter = QPainter(image)
        painter.fillRect(QRectF(0, 0, 8, 8), QColor("red"))
        painter.setPen(QColor("blue"))
        painter.drawText(4, 16, "ok")
        painter.end()

    paint()  # first call may populate caches
    before = sys.getrefcount(None)
    for _ in range(300):
        paint()
    assert sys.getrefcount(None) >= before - 5
