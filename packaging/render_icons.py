"""Regenerate the icon files in ``src/studio_status/resources/icons`` (run after a change).

* hicolor PNGs of the app icon at every size (and @2 for HiDPI), rendered from the SVG with
  Qt's SVG renderer at the exact pixel size, so each is crisp rather than scaled.
* tray-state SVGs recorded from the very painter the tray uses (:func:`paint_tray_icon`),
  so the files and the live icon cannot drift apart: one drawing, two outputs.

Usage: ``QT_QPA_PLATFORM=offscreen python packaging/render_icons.py``
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QByteArray, QRect, QSize, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgGenerator, QSvgRenderer

from studio_status.desktop.install import HIDPI_SIZES, ICON_SIZES
from studio_status.ui.formats import Overall
from studio_status.ui.theme import DARK, LIGHT
from studio_status.ui.tray import paint_tray_icon

ROOT = Path(__file__).resolve().parents[1] / "src" / "studio_status" / "resources" / "icons"


def render_png(svg: Path, px: int, out: Path) -> None:
    renderer = QSvgRenderer(str(svg))
    image = QImage(px, px, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(p)
    p.end()
    out.parent.mkdir(parents=True, exist_ok=True)
    image.save(str(out), "PNG")


def tray_svg(theme_name: str, overall: Overall, size: int = 32) -> bytes:
    theme = LIGHT if theme_name == "light" else DARK
    buffer = QByteArray()
    from PySide6.QtCore import QBuffer

    device = QBuffer(buffer)
    gen = QSvgGenerator()
    gen.setOutputDevice(device)
    gen.setSize(QSize(size, size))
    gen.setViewBox(QRect(0, 0, size, size))
    gen.setTitle(f"Studio Status: {overall.value}")
    gen.setDescription(f"Tray icon, {overall.value}, {theme_name} theme (generated)")
    p = QPainter(gen)
    paint_tray_icon(p, theme, overall, size)
    p.end()
    return bytes(buffer.data())


def main() -> int:
    QGuiApplication(sys.argv[:1])
    svg = ROOT / "hicolor" / "scalable" / "apps" / "studio-status.svg"
    for size in ICON_SIZES:
        render_png(svg, size, ROOT / "hicolor" / f"{size}x{size}" / "apps" / "studio-status.png")
    for size in HIDPI_SIZES:
        out = ROOT / "hicolor" / f"{size}x{size}@2" / "apps" / "studio-status.png"
        render_png(svg, size * 2, out)
    for theme in ("light", "dark"):
        for overall in Overall:
            out = ROOT / "tray" / f"{overall.value}-{theme}.svg"
            out.write_bytes(tray_svg(theme, overall))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
