"""The Settings window: every app setting, profiles with their tokens, applied at once.

Non-modal and instant-apply (the theme too: strip, tray icon and open windows repaint at
once); Esc, Ctrl+W or Close closes it. Each control writes through :class:`ConfigStore` as it
changes (profile fields on "Save profile", since a name half-typed is not a rename), and
the window re-reads the store on ``changed`` so an edge chosen from the strip's own menu
shows here too. The one question it asks (remove a profile?) is a :class:`QMessageBox`
opened with ``open()`` and answered through ``finished``: never ``exec()``, which would
nest an event loop inside qasync (STYLE.md pitfall 1).

Tokens go straight from the password field to :class:`~studio_status.tokens.TokenStore`;
the field is cleared after saving and never shows a stored token back.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Qt, QTime, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QKeySequenceEdit,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QTabWidget,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from studio_status.appconfig import Edge, Profile, ThemeChoice, Transition
from studio_status.client.state import Segment, StatusState
from studio_status.client.stream import ca_bundle_problem
from studio_status.tokens import TokenStore, TokenStoreError

from . import formats
from .config import ConfigStore
from .feed import StateFeed

__all__ = ["TRANSITION_LABELS", "SettingsWindow"]

log = logging.getLogger("app.config")

TRANSITION_LABELS: dict[Transition, str] = {
    Transition.SERVICE_DEGRADED: "A service degrades",
    Transition.SERVICE_DOWN: "A service goes down",
    Transition.SERVICE_RECOVERED: "A service recovers",
    Transition.JOB_FAILED: "A job fails",
    Transition.POD_ERROR: "A cloud GPU pod errors",
    Transition.BUDGET_EXCEEDED: "The cloud GPU budget is exceeded",
}
_PRIMARY = "Primary screen"
#: the profile's certificate check (``verify`` in app.toml) as the editor offers it
VERIFY_SYSTEM, VERIFY_FILE, VERIFY_OFF = "system", "file", "off"
VERIFY_LABELS: dict[str, str] = {
    VERIFY_SYSTEM: "System certificates",
    VERIFY_FILE: "This CA file…",
    VERIFY_OFF: "Don't verify (unsafe)",
}
UNSAFE_WARNING = (
    "The hub's certificate is not checked: anyone between you and the hub can pose as it"
    " and read this profile's token. Use a CA file for a private or self-signed hub instead."
)


class SettingsWindow(QWidget):
    """Signals:
        token_changed(str): the token of this profile was saved or removed.

    Attributes:
        tabs: the tab widget (Profiles, Strip, Notifications, General).
        message: the last status line shown (errors, "saved").
    """

    token_changed = Signal(str)

    def __init__(
        self,
        config: ConfigStore,
        tokens: TokenStore,
        feed: StateFeed | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("Settings — Studio Status")
        self._config = config
        self._tokens = tokens
        self._feed = feed
        self._loading = False
        self.message = ""
        self.confirm: QMessageBox | None = None

        outer = QVBoxLayout(self)
        problems = config.loaded.problems
        self.problems = QLabel("\n".join(problems), self)
        self.problems.setWordWrap(True)
        self.problems.setVisible(bool(problems))
        self.problems.setStyleSheet("color: #b35c00")
        outer.addWidget(self.problems)
        # the connection actually in use, which --hub / --token may make another than the
        # saved profile's (they are never saved)
        self.in_use = QLabel("", self)
        self.in_use.setWordWrap(True)
        outer.addWidget(self.in_use)
        if feed is not None:
            feed.changed.connect(self.on_feed_changed)
            self.on_feed_changed(feed.state)
        self.tabs = QTabWidget(self)
        outer.addWidget(self.tabs)
        self.status = QLabel("", self)
        self.status.setWordWrap(True)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        # every change is already saved: Close (or Esc) only closes
        self.close_button = QPushButton("Close", self)
        self.close_button.setToolTip("Changes are saved as you make them")
        self.close_button.clicked.connect(self.close)
        bottom.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignBottom)
        outer.addLayout(bottom)
        for key in (QKeySequence(Qt.Key.Key_Escape), QKeySequence(QKeySequence.StandardKey.Close)):
            QShortcut(key, self).activated.connect(self.close)
        self.tabs.addTab(self._profiles_tab(), "Profiles")
        self.tabs.addTab(self._strip_tab(), "Strip")
        self.tabs.addTab(self._notifications_tab(), "Notifications")
        self.tabs.addTab(self._general_tab(), "General")
        config.changed.connect(self.on_config_changed)
        self._load()
        self.resize(560, 460)

    def on_feed_changed(self, state: StatusState) -> None:
        self.in_use.setText(formats.in_use_text(state) or "")
        self.in_use.setVisible(bool(self.in_use.text()))

    # -- building ---------------------------------------------------------------------

    def _profiles_tab(self) -> QWidget:
        tab = QWidget(self)
        row = QHBoxLayout(tab)
        left = QVBoxLayout()
        self.profile_list = QListWidget(tab)
        self.profile_list.currentRowChanged.connect(self.on_profile_list_row_changed)
        left.addWidget(self.profile_list)
        buttons = QHBoxLayout()
        self.add_button = QPushButton("Add", tab)
        self.add_button.clicked.connect(self.on_add_clicked)
        self.remove_button = QPushButton("Remove…", tab)
        self.remove_button.clicked.connect(self.on_remove_clicked)
        self.activate_button = QPushButton("Use this one", tab)
        self.activate_button.clicked.connect(self.on_activate_clicked)
        for b in (self.add_button, self.remove_button, self.activate_button):
            buttons.addWidget(b)
        left.addLayout(buttons)
        row.addLayout(left, 1)

        form = QFormLayout()
        self.name_edit = QLineEdit(tab)
        self.hub_edit = QLineEdit(tab)
        self.hub_edit.setPlaceholderText("empty: run a hub on this computer")
        self.web_edit = QLineEdit(tab)
        self.web_edit.setPlaceholderText("https://studio.example (optional)")
        self.token_edit = QLineEdit(tab)
        self.token_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.token_state = QLabel(tab)
        self.role_label = QLabel(tab)
        form.addRow("Name", self.name_edit)
        form.addRow("Hub URL", self.hub_edit)
        form.addRow("Web URL", self.web_edit)
        self.verify_combo = QComboBox(tab)
        for key, text in VERIFY_LABELS.items():
            self.verify_combo.addItem(text, key)
        self.verify_combo.currentIndexChanged.connect(self.on_verify_choice_changed)
        self.ca_edit = QLineEdit(tab)
        self.ca_edit.setPlaceholderText("the PEM file of the hub's CA (or its certificate)")
        self.ca_browse_button = QPushButton("Choose…", tab)
        self.ca_browse_button.clicked.connect(self.on_ca_browse_clicked)
        self.ca_dialog: QFileDialog | None = None
        self.ca_row = QWidget(tab)
        ca_layout = QHBoxLayout(self.ca_row)
        ca_layout.setContentsMargins(0, 0, 0, 0)
        ca_layout.addWidget(self.ca_edit, 1)
        ca_layout.addWidget(self.ca_browse_button)
        self.verify_warning = QLabel(UNSAFE_WARNING, tab)
        self.verify_warning.setWordWrap(True)
        self.verify_warning.setStyleSheet("color: #c0392b; font-weight: bold")
        form.addRow("Certificates", self.verify_combo)
        form.addRow("", self.ca_row)
        form.addRow("", self.verify_warning)
        form.addRow("Token", self.token_edit)
        form.addRow("", self.token_state)
        form.addRow("Role", self.role_label)
        self.save_profile_button = QPushButton("Save profile", tab)
        self.save_profile_button.clicked.connect(self.on_save_profile_clicked)
        self.forget_token_button = QPushButton("Forget token", tab)
        self.forget_token_button.clicked.connect(self.on_forget_token_clicked)
        actions = QHBoxLayout()
        actions.addWidget(self.forget_token_button)
        actions.addStretch(1)
        actions.addWidget(self.save_profile_button)
        form.addRow(actions)
        self.keyring_label = QLabel(tab)
        self.keyring_label.setWordWrap(True)
        form.addRow(self.keyring_label)
        self.insecure_check = QCheckBox(
            "No keyring: keep tokens in a private file instead (insecure)", tab
        )
        self.insecure_check.toggled.connect(self.on_insecure_toggled)
        form.addRow(self.insecure_check)
        row.addLayout(form, 2)
        return tab

    def _strip_tab(self) -> QWidget:
        tab = QWidget(self)
        form = QFormLayout(tab)
        self.edge_combo = QComboBox(tab)
        for edge in Edge:
            self.edge_combo.addItem(edge.value.capitalize(), edge.value)
        self.edge_combo.currentIndexChanged.connect(self.on_strip_control_changed)
        self.screen_combo = QComboBox(tab)
        self.screen_combo.currentIndexChanged.connect(self.on_strip_control_changed)
        self.collapsed_check = QCheckBox("Collapsed to a thin line", tab)
        self.collapsed_check.toggled.connect(self.on_strip_control_changed)
        self.order_list = QListWidget(tab)
        self.order_list.setMaximumHeight(110)
        up, down = QPushButton("Up", tab), QPushButton("Down", tab)
        up.clicked.connect(lambda: self.move_segment(-1))
        down.clicked.connect(lambda: self.move_segment(1))
        moves = QHBoxLayout()
        moves.addWidget(up)
        moves.addWidget(down)
        moves.addStretch(1)
        self.shortcut_edit = QKeySequenceEdit(tab)
        self.shortcut_edit.editingFinished.connect(self.on_strip_control_changed)
        form.addRow("Edge", self.edge_combo)
        form.addRow("Screen", self.screen_combo)
        form.addRow("", self.collapsed_check)
        form.addRow("Segment order", self.order_list)
        form.addRow("", moves)
        form.addRow("Collapse shortcut", self.shortcut_edit)
        return tab

    def _notifications_tab(self) -> QWidget:
        tab = QWidget(self)
        form = QFormLayout(tab)
        self.notify_check = QCheckBox("Show desktop notifications", tab)
        self.notify_check.toggled.connect(self.on_notification_control_changed)
        form.addRow(self.notify_check)
        self.transition_checks: dict[Transition, QCheckBox] = {}
        for kind, text in TRANSITION_LABELS.items():
            box = QCheckBox(text, tab)
            box.toggled.connect(self.on_notification_control_changed)
            self.transition_checks[kind] = box
            form.addRow("", box)
        self.quiet_check = QCheckBox("Quiet hours", tab)
        self.quiet_check.toggled.connect(self.on_notification_control_changed)
        self.quiet_start = QTimeEdit(tab)
        self.quiet_end = QTimeEdit(tab)
        for edit in (self.quiet_start, self.quiet_end):
            edit.setDisplayFormat("HH:mm")
            edit.timeChanged.connect(self.on_notification_control_changed)
        quiet = QHBoxLayout()
        quiet.addWidget(self.quiet_check)
        quiet.addWidget(QLabel("from", tab))
        quiet.addWidget(self.quiet_start)
        quiet.addWidget(QLabel("to", tab))
        quiet.addWidget(self.quiet_end)
        form.addRow(quiet)
        self.sound_check = QCheckBox("Play a sound", tab)
        self.sound_check.toggled.connect(self.on_notification_control_changed)
        self.native_check = QCheckBox("Use the desktop's notifier where there is one", tab)
        self.native_check.toggled.connect(self.on_notification_control_changed)
        form.addRow(self.sound_check)
        form.addRow(self.native_check)
        return tab

    def _general_tab(self) -> QWidget:
        tab = QWidget(self)
        form = QFormLayout(tab)
        self.theme_combo = QComboBox(tab)
        for choice in ThemeChoice:
            self.theme_combo.addItem(choice.value.capitalize(), choice.value)
        self.theme_combo.currentIndexChanged.connect(self.on_general_control_changed)
        self.autostart_check = QCheckBox("Start Studio Status when I log in", tab)
        self.autostart_check.toggled.connect(self.on_general_control_changed)
        self.poll_spin = QDoubleSpinBox(tab)
        self.poll_spin.setRange(5, 3600)
        self.poll_spin.setSuffix(" s")
        self.poll_spin.setDecimals(0)  # "30 s", not "30.00 s"
        self.poll_spin.editingFinished.connect(self.on_general_control_changed)
        self.stale_spin = QDoubleSpinBox(tab)
        self.stale_spin.setRange(10, 3600)
        self.stale_spin.setSuffix(" s")
        self.stale_spin.setDecimals(0)
        self.stale_spin.editingFinished.connect(self.on_general_control_changed)
        form.addRow("Theme", self.theme_combo)
        form.addRow("", self.autostart_check)
        form.addRow("Poll every (stream down)", self.poll_spin)
        form.addRow("Stale after", self.stale_spin)
        path = QLabel(str(self._config.file.path), tab)
        path.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow("Settings file", path)
        return tab

    # -- reading the store ------------------------------------------------------------

    def on_config_changed(self, _name: str) -> None:
        self._load()

    def _load(self) -> None:
        self._loading = True
        try:
            c = self._config.config
            current = self.selected_name() or c.active.name
            self.profile_list.clear()
            for p in c.profiles:
                mark = " (in use)" if p.name == c.active.name else ""
                item = QListWidgetItem(p.name + mark, self.profile_list)
                item.setData(Qt.ItemDataRole.UserRole, p.name)
            names = [p.name for p in c.profiles]
            self.profile_list.setCurrentRow(names.index(current) if current in names else 0)
            self._show_profile(self.selected_name())
            self.keyring_label.setText(
                self._tokens.problem or f"Tokens are kept in the {self._tokens.description}."
            )
            self.insecure_check.setVisible(self._tokens.backend is None)
            self.insecure_check.setChecked(c.insecure_token_file)

            s = c.strip
            self.edge_combo.setCurrentIndex(self.edge_combo.findData(s.edge.value))
            self.screen_combo.clear()
            self.screen_combo.addItem(_PRIMARY, None)
            for screen in QGuiApplication.screens():
                self.screen_combo.addItem(screen.name(), screen.name())
            if s.screen is not None and self.screen_combo.findData(s.screen) < 0:
                self.screen_combo.addItem(f"{s.screen} (not connected)", s.screen)
            self.screen_combo.setCurrentIndex(max(0, self.screen_combo.findData(s.screen)))
            self.collapsed_check.setChecked(s.collapsed)
            self.order_list.clear()
            for seg in s.order:
                item = QListWidgetItem(formats.SEGMENT_TITLES[seg], self.order_list)
                item.setData(Qt.ItemDataRole.UserRole, seg.value)
            self.shortcut_edit.setKeySequence(QKeySequence(s.shortcut))

            n = c.notifications
            self.notify_check.setChecked(n.enabled)
            for kind, box in self.transition_checks.items():
                box.setChecked(kind in n.transitions)
                box.setEnabled(n.enabled)
            self.quiet_check.setChecked(n.quiet_hours)
            self.quiet_start.setTime(QTime(n.quiet_start.hour, n.quiet_start.minute))
            self.quiet_end.setTime(QTime(n.quiet_end.hour, n.quiet_end.minute))
            self.sound_check.setChecked(n.sound)
            self.native_check.setChecked(n.native)

            self.theme_combo.setCurrentIndex(self.theme_combo.findData(c.theme.value))
            self.autostart_check.setChecked(c.start_at_login)
            self.poll_spin.setValue(c.refresh.poll_seconds)
            self.stale_spin.setValue(c.refresh.stale_after_seconds)
        finally:
            self._loading = False

    def selected_name(self) -> str | None:
        item = self.profile_list.currentItem()
        return None if item is None else str(item.data(Qt.ItemDataRole.UserRole))

    def _show_profile(self, name: str | None) -> None:
        p = self._config.config.profile(name) if name else None
        self.name_edit.setText(p.name if p else "")
        self.hub_edit.setText((p.hub_url or "") if p else "")
        self.web_edit.setText((p.web_url or "") if p else "")
        self.token_edit.clear()
        self.role_label.setText(p.role.value if p and p.role else "not known yet")
        verify: bool | str = p.verify if p else True
        choice = VERIFY_OFF if verify is False else VERIFY_SYSTEM if verify is True else VERIFY_FILE
        self.ca_edit.setText(verify if isinstance(verify, str) else "")
        self.verify_combo.setCurrentIndex(self.verify_combo.findData(choice))
        self.on_verify_choice_changed()
        has_token = False
        if p is not None:
            try:
                has_token = self._tokens.get(p.name) is not None
            except TokenStoreError as exc:
                self._say(str(exc))
        if p is not None and p.hub_url is None:
            self.token_state.setText("The hub on this computer needs no token.")
        else:
            self.token_state.setText("A token is stored." if has_token else "No token stored.")
        self.token_edit.setPlaceholderText("enter a new token to replace it" if has_token else "")
        self.forget_token_button.setEnabled(has_token)
        self.remove_button.setEnabled(len(self._config.config.profiles) > 1)

    def _say(self, text: str) -> None:
        self.message = text
        self.status.setText(text)

    # -- profiles ---------------------------------------------------------------------

    def on_verify_choice_changed(self, *_args: Any) -> None:
        """Shows what the choice needs (a file) or costs (a warning); saved with the profile."""
        choice = self.verify_combo.currentData()
        self.ca_row.setVisible(choice == VERIFY_FILE)
        self.verify_warning.setVisible(choice == VERIFY_OFF)

    def on_ca_browse_clicked(self) -> None:
        start = self.ca_edit.text().strip()
        dialog = QFileDialog(self, "CA certificate file", start or "")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setNameFilters(["Certificates (*.pem *.crt *.cer)", "All files (*)"])
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fileSelected.connect(self.on_ca_file_selected)
        dialog.finished.connect(self._on_ca_dialog_finished)
        self.ca_dialog = dialog
        dialog.open()  # never exec(): no nested event loop under qasync

    def on_ca_file_selected(self, path: str) -> None:
        self.ca_edit.setText(path)

    def _on_ca_dialog_finished(self, _result: int) -> None:
        self.ca_dialog = None

    def chosen_verify(self) -> bool | str:
        """The form's certificate check as app.toml keeps it; ValueError says what is wrong
        with a CA file."""
        choice = self.verify_combo.currentData()
        if choice == VERIFY_OFF:
            return False
        if choice == VERIFY_SYSTEM:
            return True
        path = self.ca_edit.text().strip()
        if not path:
            raise ValueError("choose the CA file the hub's certificate is checked against")
        problem = ca_bundle_problem(path)
        if problem is not None:
            raise ValueError(f"CA file: {problem}")
        return path

    def on_profile_list_row_changed(self, _row: int) -> None:
        if not self._loading:
            self._show_profile(self.selected_name())

    def on_add_clicked(self) -> None:
        taken = {p.name for p in self._config.config.profiles}
        n = 1
        while f"Profile {n}" in taken:
            n += 1
        name = f"Profile {n}"
        self._config.set_profile(Profile(name=name, hub_url="http://127.0.0.1:8765"))
        self.select(name)
        self.name_edit.setFocus()
        self.name_edit.selectAll()

    def select(self, name: str) -> None:
        for row in range(self.profile_list.count()):
            if self.profile_list.item(row).data(Qt.ItemDataRole.UserRole) == name:
                self.profile_list.setCurrentRow(row)

    def on_save_profile_clicked(self) -> None:
        old = self.selected_name()
        if old is None:
            return
        current = self._config.config.profile(old)
        token = self.token_edit.text().strip()  # read first: saving reloads the form
        try:
            profile = Profile(
                name=self.name_edit.text(),
                hub_url=self.hub_edit.text() or None,
                web_url=self.web_edit.text() or None,
                role=current.role if current and current.hub_url == self.hub_edit.text() else None,
                verify=self.chosen_verify(),
            )
            if profile.name != old:
                self._tokens.rename(old, profile.name)
            self._config.set_profile(profile, replacing=old)
        except (ValueError, TokenStoreError) as exc:
            self._say(f"Not saved: {_plain(exc)}")
            return
        if token:
            try:
                self._tokens.set(profile.name, token)
            except TokenStoreError as exc:
                self._say(f"Profile saved, token not stored: {exc}")
                return
            self.token_changed.emit(profile.name)
        self.select(profile.name)
        self._show_profile(profile.name)
        self._say(f"Saved profile {profile.name!r}" + (" and its token." if token else "."))

    def on_forget_token_clicked(self) -> None:
        name = self.selected_name()
        if name is None:
            return
        try:
            self._tokens.delete(name)
        except TokenStoreError as exc:
            self._say(str(exc))
            return
        self.token_changed.emit(name)
        self._show_profile(name)
        self._say(f"Forgot the token of {name!r}.")

    def on_activate_clicked(self) -> None:
        name = self.selected_name()
        if name is not None:
            self._config.switch_profile(name)
            self._say(f"Now showing {name!r}.")

    def on_remove_clicked(self) -> None:
        name = self.selected_name()
        if name is None or len(self._config.config.profiles) < 2:
            return
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Remove profile",
            f"Remove the profile {name!r} and forget its token?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda result, n=name: self.on_confirm_finished(n, result))
        self.confirm = box
        box.open()  # never exec(): no nested event loop under qasync

    def on_confirm_finished(self, name: str, result: int) -> None:
        self.confirm = None
        if result != QMessageBox.StandardButton.Yes.value:
            return
        try:
            self._config.remove_profile(name)
            self._tokens.delete(name)
        except (ValueError, TokenStoreError) as exc:
            self._say(_plain(exc))
            return
        self._say(f"Removed profile {name!r}.")

    def on_insecure_toggled(self, checked: bool) -> None:
        if not self._loading:
            self._tokens.allow_insecure_file = checked
            self._config.update(insecure_token_file=checked)

    # -- other tabs -------------------------------------------------------------------

    def move_segment(self, step: int) -> None:
        row = self.order_list.currentRow()
        target = row + step
        if row < 0 or not 0 <= target < self.order_list.count():
            return
        item = self.order_list.takeItem(row)
        self.order_list.insertItem(target, item)
        self.order_list.setCurrentRow(target)
        self.on_strip_control_changed()
        self.order_list.setCurrentRow(target)

    def on_strip_control_changed(self, *_args: Any) -> None:
        if self._loading:
            return
        order = [
            Segment(str(self.order_list.item(i).data(Qt.ItemDataRole.UserRole)))
            for i in range(self.order_list.count())
        ]
        shortcut = self.shortcut_edit.keySequence().toString() or self._config.config.strip.shortcut
        self._apply(
            "strip",
            edge=self.edge_combo.currentData(),
            screen=self.screen_combo.currentData(),
            collapsed=self.collapsed_check.isChecked(),
            order=tuple(order),
            shortcut=shortcut,
        )

    def on_notification_control_changed(self, *_args: Any) -> None:
        if self._loading:
            return
        self._apply(
            "notifications",
            enabled=self.notify_check.isChecked(),
            transitions=tuple(k for k, b in self.transition_checks.items() if b.isChecked()),
            quiet_hours=self.quiet_check.isChecked(),
            quiet_start=self.quiet_start.time().toPython(),
            quiet_end=self.quiet_end.time().toPython(),
            sound=self.sound_check.isChecked(),
            native=self.native_check.isChecked(),
        )

    def on_general_control_changed(self, *_args: Any) -> None:
        if self._loading:
            return
        try:
            self._config.update(
                theme=self.theme_combo.currentData(),
                start_at_login=self.autostart_check.isChecked(),
                refresh={
                    "poll_seconds": self.poll_spin.value(),
                    "stale_after_seconds": self.stale_spin.value(),
                },
            )
        except ValueError as exc:
            self._say(_plain(exc))

    def _apply(self, section: str, **changes: Any) -> None:
        try:
            self._config.update_section(section, **changes)
        except ValueError as exc:
            self._say(_plain(exc))


def _plain(exc: Exception) -> str:
    """A pydantic error as one readable line (field: message)."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
    return str(exc)
