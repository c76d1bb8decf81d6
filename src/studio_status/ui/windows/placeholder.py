"""A plain window per segment that names what its detail window will show.

With a platform web URL configured it also offers "Open in browser" at the seed's pages:
``/admin/health`` (seed 000, 1.2), ``/admin/cloud-gpu`` (1.3); the jobs and workflows pages
have no path in the seed, so ``/jobs`` and ``/dashboard`` (Studio Pulse) are assumed.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

__all__ = ["DESCRIPTIONS", "WEB_PATHS", "PlaceholderWindow", "web_link"]

WEB_PATHS: dict[str, str] = {
    "services": "/admin/health",
    "cloud_gpu": "/admin/cloud-gpu",
    "jobs": "/jobs",
    "workflows": "/dashboard",
}

DESCRIPTIONS: dict[str, tuple[str, str]] = {
    "services": (
        "System Health",
        "Every service with its status, latency and uptime; per service the check history, "
        "quick actions (restart, diagnose, re-check), logs, alerts and the startup checklist.",
    ),
    "cloud_gpu": (
        "Cloud GPU",
        "Running pods with GPU type, uptime and cost per hour, the total rate against the "
        "budget, and pod status changes.",
    ),
    "jobs": (
        "Jobs",
        "Running and queued jobs with progress, ETA and worker, and the jobs that failed.",
    ),
    "workflows": (
        "Workflows",
        "Active workflows and production runs with their current stage (Studio Pulse).",
    ),
    "settings": (
        "Settings",
        "Hub address and sign-in, strip edge and screen, segment order, shortcut, notifications.",
    ),
}


def web_link(web_url: str | None, name: str) -> str | None:
    """The platform page for ``name`` under ``web_url``, or None."""
    path = WEB_PATHS.get(name)
    if not web_url or path is None:
        return None
    return web_url.rstrip("/") + path


class PlaceholderWindow(QWidget):
    """Attributes:
    link: the "Open in browser" URL, or None when no web URL is configured.
    """

    def __init__(
        self, name: str, web_url: str | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        title, text = DESCRIPTIONS.get(name, (name, ""))
        self.setWindowTitle(f"{title} — Studio Status")
        self.link = web_link(web_url, name)
        layout = QVBoxLayout(self)
        heading = QLabel(f"<b>{title}</b>", self)
        body = QLabel(f"This window will show: {text}", self)
        body.setWordWrap(True)
        layout.addWidget(heading)
        layout.addWidget(body)
        row = QHBoxLayout()
        row.addStretch(1)
        if self.link is not None:
            button = QPushButton("Open in browser", self)
            button.setToolTip(self.link)
            button.clicked.connect(self.on_browser_clicked)
            row.addWidget(button)
        close = QPushButton("Close", self)
        close.clicked.connect(self.close)
        row.addWidget(close)
        layout.addLayout(row)
        self.resize(420, 160)

    def on_browser_clicked(self) -> None:
        if self.link is not None:
            QDesktopServices.openUrl(QUrl(self.link))
