"""A model of the Windows shell's app-bar bookkeeping, for testing the protocol anywhere.

It keeps what the real shell keeps: the registered bars with their edge and rectangle, a
taskbar that is always there, and the rule that ``ABM_QUERYPOS`` / ``ABM_SETPOS`` move a
proposed rectangle off every other bar on the same edge. It also checks what a real
shell would reject silently: the wrong ``cbSize``, a missing window handle, placing a
window that never registered.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass, field

from studio_status.ui.strip import appbar as ab
from studio_status.ui.strip.appbar import APPBARDATA, NativeRect

TASKBAR = -1  # the taskbar's "window handle" in the model


@dataclass
class ShellModel:
    monitor: NativeRect
    taskbar_height: int = 40
    bars: dict[int, tuple[int, NativeRect]] = field(default_factory=dict)
    registered: set[int] = field(default_factory=set)
    calls: list[tuple[int, int]] = field(default_factory=list)
    topmost: list[tuple[int, bool]] = field(default_factory=list)
    callbacks: dict[int, int] = field(default_factory=dict)
    refuse: bool = False

    def __post_init__(self) -> None:
        m = self.monitor
        self.bars[TASKBAR] = (
            ab.ABE_BOTTOM,
            NativeRect(m.left, m.bottom - self.taskbar_height, m.right, m.bottom),
        )

    def add_bar(self, hwnd: int, edge: int, thickness: int) -> None:
        """Another application's app bar, already docked."""
        m = self.monitor
        if edge == ab.ABE_TOP:
            self.bars[hwnd] = (edge, NativeRect(m.left, m.top, m.right, m.top + thickness))
        else:
            self.bars[hwnd] = (edge, NativeRect(m.left, m.bottom - thickness, m.right, m.bottom))

    def _adjust(self, hwnd: int, edge: int, rc: ab.RECT) -> None:
        for other, (other_edge, r) in self.bars.items():
            if other == hwnd or other_edge != edge:
                continue
            if edge == ab.ABE_TOP:
                shift = max(0, r.bottom - rc.top)
                rc.top += shift
                rc.bottom += shift
            else:
                shift = max(0, rc.bottom - r.top)
                rc.bottom -= shift
                rc.top -= shift

    def send(self, message: int, data: ctypes._Pointer[APPBARDATA]) -> int:
        abd = data.contents
        assert abd.cbSize == ctypes.sizeof(APPBARDATA), "the shell ignores a wrong cbSize"
        assert abd.hWnd, "every app-bar message names the window"
        hwnd = int(abd.hWnd)
        self.calls.append((message, hwnd))
        if message == ab.ABM_NEW:
            if self.refuse or hwnd in self.registered:
                return 0
            self.registered.add(hwnd)
            self.callbacks[hwnd] = abd.uCallbackMessage
            return 1
        assert hwnd in self.registered, f"message {message} from an unregistered window"
        if message == ab.ABM_REMOVE:
            self.registered.discard(hwnd)
            self.bars.pop(hwnd, None)
            return 1
        if message == ab.ABM_QUERYPOS:
            self._adjust(hwnd, abd.uEdge, abd.rc)
            return 1
        if message == ab.ABM_SETPOS:
            self._adjust(hwnd, abd.uEdge, abd.rc)
            rc = abd.rc
            self.bars[hwnd] = (abd.uEdge, NativeRect(rc.left, rc.top, rc.right, rc.bottom))
            return 1
        return 1  # ABM_ACTIVATE, ABM_WINDOWPOSCHANGED: acknowledged

    def set_topmost(self, hwnd: int, on: bool) -> None:
        self.topmost.append((hwnd, on))

    def sent(self, message: int) -> int:
        return sum(1 for m, _ in self.calls if m == message)

    def work_area(self) -> NativeRect:
        """The monitor less every bar: what maximised windows fill."""
        m = self.monitor
        top = max([m.top] + [r.bottom for e, r in self.bars.values() if e == ab.ABE_TOP])
        bottom = min([m.bottom] + [r.top for e, r in self.bars.values() if e == ab.ABE_BOTTOM])
        return NativeRect(m.left, top, m.right, bottom)
