"""Package data: the desktop entry, the app icon (SVG + hicolor PNGs), tray-state SVGs."""
