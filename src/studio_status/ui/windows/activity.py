"""Activity feed (seed 002, 4.5): what happened, newest first, with type icons and filters.

The first page and every further page come from ``GET /dashboard/widgets/activity-feed``
(keys ``activity:limit=50&offset=…&category=…&project_id=…``); new items arrive live on the
``activity`` topics, held while this window is open. Scrolling to the end loads the next
page. Activating an item (click, Enter) opens what it is about: a job → the jobs window,
a service or alert → that service, a workflow → jobs, the system → the health grid.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QListWidget, QListWidgetItem

from studio_status.client.state import StatusState
from studio_status.protocol import Role, Topic
from studio_status.protocol.dashboard import ACTIVITY_CATEGORIES, ActivityItem, ActivityPage
from studio_status.ui import formats
from studio_status.ui.widgets import StatePane

from .base import DetailWindow, WindowContext

__all__ = ["ICONS", "ActivityWindow", "target_of"]

PAGE = 50
ICONS = {
    "success": "✓",
    "error": "✗",
    "warning": "▲",
    "info": "•",
}
CATEGORY_ICONS = {"job": "⚡", "workflow": "⟳", "system": "◆", "service": "●", "alert": "!"}
_COLORS = {"success": "healthy", "error": "down", "warning": "degraded", "info": "text"}


def target_of(item: ActivityItem) -> str | None:
    """The window an item opens (see :mod:`studio_status.ui.windows`)."""
    if item.entity_type in ("job", "workflow"):
        return "jobs"
    if item.entity_type in ("service", "alert") and item.category in ("service", "alert"):
        service = item.entity_id.split(":", 1)[0] if item.entity_type == "alert" else item.entity_id
        return f"service:{service}"
    if item.entity_type == "system":
        return "services"
    return None


class ActivityWindow(DetailWindow):
    """Attributes:
    list: the items; category / project: the filters; pages: how many pages are shown.
    """

    kind = "activity"
    title = formats.WINDOW_TITLES["activity"]
    default_size = (760, 600)

    def __init__(self, ctx: WindowContext, key: str | None = None) -> None:
        super().__init__(ctx, key)
        self.pages = 1
        self.category = QComboBox()
        self.category.setAccessibleName("Filter by category")
        self.category.addItem("All categories", None)
        for cat in ACTIVITY_CATEGORIES:
            self.category.addItem(f"{CATEGORY_ICONS[cat]} {cat}", cat)
        self.category.currentIndexChanged.connect(self.on_filter_changed)
        self.header_actions.addWidget(self.category)
        self.project = QComboBox()
        self.project.setAccessibleName("Filter by project")
        self.project.addItem("All projects", None)
        self.project.currentIndexChanged.connect(self.on_filter_changed)
        self.header_actions.addWidget(self.project)
        self.list = QListWidget()
        self.list.setAccessibleName("Activity, newest first")
        self.list.setAlternatingRowColors(True)
        self.list.setWordWrap(True)
        self.list.itemActivated.connect(self.on_list_item_activated)
        self.list.itemClicked.connect(self.on_list_item_activated)
        self.list.verticalScrollBar().valueChanged.connect(self.on_scroll_value_changed)
        self.pane = StatePane(self.list, theme=self.theme)
        self.pane.retry_requested.connect(self.on_pane_retry_requested)
        self.root.addWidget(self.pane, 1)
        self.more = QLabel()
        self.more.setStyleSheet(f"color: {self.theme.text_dim};")
        self.root.addWidget(self.more)
        self._items: list[ActivityItem] = []

    # -- what is watched ----------------------------------------------------------------

    def _query(self, page: int) -> str:
        parts = [f"limit={PAGE}", f"offset={page * PAGE}"]
        category = self.category.currentData()
        project = self.project.currentData()
        if category:
            parts.append(f"category={category}")
        if project:
            parts.append(f"project_id={project}")
        return "activity:" + "&".join(parts)

    def resources(self) -> list[str]:
        return [self._query(page) for page in range(self.pages)]

    def topics(self) -> list[str]:
        topics = [Topic.ACTIVITY]
        if self.ctx.feed.state.role is Role.ADMIN:
            topics.append(Topic.ACTIVITY_ADMIN)
        return topics

    def on_filter_changed(self, _index: int) -> None:
        self.pages = 1
        self.rewatch()

    def on_scroll_value_changed(self, value: int) -> None:
        bar = self.list.verticalScrollBar()
        if value >= bar.maximum() - 2 and self._has_more():
            self.load_more()

    def load_more(self) -> None:
        """The next page (scroll to the end, or End / Page Down at the bottom)."""
        self.pages += 1
        self.rewatch()

    def _has_more(self) -> bool:
        last = self.entry(self._query(self.pages - 1)).value
        return isinstance(last, ActivityPage) and last.has_more

    # -- render -------------------------------------------------------------------------

    def show_state(self, state: StatusState) -> None:
        first = self.show_entry(self.pane, self._query(0), "the activity feed")
        if first is None:
            return
        seen: set[int] = set()
        items: list[ActivityItem] = []
        category = self.category.currentData()
        project = self.project.currentData()
        live = [
            i
            for i in state.activity
            if (not category or i.category == category) and (not project or i.project_id == project)
        ]
        pages = [self.entry(self._query(p)).value for p in range(self.pages)]
        for item in [*live, *(i for pg in pages if isinstance(pg, ActivityPage) for i in pg.items)]:
            if item.id not in seen:
                seen.add(item.id)
                items.append(item)
        items.sort(key=lambda i: (i.ts, i.id), reverse=True)
        self._update_projects(items)
        if [i.id for i in items] != [i.id for i in self._items]:
            self._fill(items)
        self.more.setText(
            "Scroll down for older items" if self._has_more() else f"{len(items)} items"
        )
        self.subtitle.setText(
            f"{len(items)} shown"
            + (f" · {category}" if category else "")
            + (f" · {project}" if project else "")
        )
        if not items:
            self.pane.show_empty(
                "No activity yet. Finished jobs, workflow stages and service changes are "
                "listed here as they happen."
                if not category and not project
                else "Nothing matches these filters. Choose “All categories” and “All "
                "projects” to see everything."
            )
        else:
            self.pane.show_content()

    def _fill(self, items: list[ActivityItem]) -> None:
        self._items = items
        bar = self.list.verticalScrollBar()
        keep = bar.value()
        self.list.clear()
        now = self.now()
        for item in items:
            icon = CATEGORY_ICONS.get(item.category, "•")
            mark = ICONS.get(item.severity, "•")
            text = f"{icon} {mark}  {item.title}"
            if item.message:
                text += f"\n     {item.message}"
            when = f"{formats.clock(item.ts, seconds=True)} ({formats.ago(item.ts, now)})"
            text += f"\n     {when}" + (f" · {item.project_id}" if item.project_id else "")
            row = QListWidgetItem(text)
            row.setData(Qt.ItemDataRole.UserRole, target_of(item))
            row.setData(Qt.ItemDataRole.AccessibleTextRole, f"{item.severity}: {item.title}")
            row.setForeground(self.theme.color(_COLORS.get(item.severity, "text")))
            target = target_of(item)
            row.setToolTip(f"{item.kind}" + (f" — Enter opens {target}" if target else ""))
            self.list.addItem(row)
        bar.setValue(keep)

    def _update_projects(self, items: list[ActivityItem]) -> None:
        known = {self.project.itemData(i) for i in range(self.project.count())}
        for project in sorted({i.project_id for i in items if i.project_id} - known):
            self.project.addItem(project, project)

    def on_list_item_activated(self, row: QListWidgetItem) -> None:
        target = row.data(Qt.ItemDataRole.UserRole)
        if isinstance(target, str):
            self.open_requested.emit(target)
