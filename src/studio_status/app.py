"""The app's wiring: one qasync loop, one store, the strip, the tray, the client, the hub.

Start-up order is chosen so the strip paints at once: the cached footer is loaded into the
store before the window shows (marked stale), then the embedded hub (when no hub URL is
given) and the client start behind it.

The loop is started one way (STYLE.md, qasync pitfall 5): a :class:`qasync.QEventLoop`
running :func:`_main` to completion. Quitting never calls ``QApplication.quit()`` from our
side: the tray's Quit, SIGINT/SIGTERM and ``aboutToQuit`` (session logout) all set one
:class:`asyncio.Event`; ``_main`` then closes the views, cancels and awaits its tasks and
stops the hub child, and returns (pitfall 6). ``asyncSlot`` errors and any other uncaught
exception go to a logging ``sys.excepthook`` (pitfall 3). Heavy modules (the client's
httpx/websockets, the embedded hub, detail windows) are imported when needed.

``QT_QPA_PLATFORM`` is never forced: on a Wayland session with XWayland the app asks for
``xcb`` only when the user has not chosen a platform (see :mod:`studio_status.ui.strip.docking`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

__all__ = ["run"]

log = logging.getLogger("app")


def _logging_excepthook(
    kind: type[BaseException], value: BaseException, tb: TracebackType | None
) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, value, tb)
        return
    log.error("uncaught exception", exc_info=(kind, value, tb))


def _make_app() -> QApplication:
    from PySide6.QtWidgets import QApplication

    from studio_status.ui.strip.docking import preferred_platform

    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    argv = [sys.argv[0] if sys.argv else "studio-status"]
    platform = preferred_platform(os.environ)
    if platform is not None:
        log.info("Wayland session with XWayland: using the %s platform to dock", platform)
        argv += ["-platform", platform]
    app = QApplication(argv)
    app.setApplicationName("studio-status")
    app.setApplicationDisplayName("Studio Status")
    app.setDesktopFileName("studio-status")
    app.setQuitOnLastWindowClosed(False)  # detail windows close; the strip and tray stay
    return app


def run(*, hub_url: str | None, token: str | None, demo: bool, web_url: str | None = None) -> int:
    """Run the app until quit; returns the process exit code."""
    import qasync

    app = _make_app()
    previous_hook = sys.excepthook
    sys.excepthook = _logging_excepthook
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    quit_event = asyncio.Event()
    app.aboutToQuit.connect(quit_event.set)
    main = loop.create_task(
        _main(quit_event, hub_url=hub_url, token=token, demo=demo, web_url=web_url),
        name="app-main",
    )
    try:
        try:
            return int(loop.run_until_complete(main))
        except RuntimeError:
            if main.done():
                raise
            # Qt's loop ended under us (session logout called quit()): aboutToQuit set the
            # event, so let main() finish its clean-up on a fresh run of the loop.
            quit_event.set()
            return int(loop.run_until_complete(main))
    except KeyboardInterrupt:
        return 130
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()
            asyncio.set_event_loop(None)
            sys.excepthook = previous_hook


async def _main(
    quit_event: asyncio.Event,
    *,
    hub_url: str | None,
    token: str | None,
    demo: bool,
    web_url: str | None,
) -> int:
    from studio_status.client.state import ConnectionState, StatusStore
    from studio_status.ui.feed import StateFeed
    from studio_status.ui.settings_store import SettingsStore
    from studio_status.ui.strip import StatusStrip
    from studio_status.ui.tray import TrayIcon
    from studio_status.ui.windows import WindowOpener

    loop = asyncio.get_running_loop()
    _install_signal_handlers(loop, quit_event.set)
    tasks: set[asyncio.Task[Any]] = set()  # qasync keeps only weak refs (pitfall 4)

    store = StatusStore()
    cache = _load_cache(store)
    feed = StateFeed(store)
    strip = StatusStrip(feed, SettingsStore(), hub_label=hub_url or "embedded hub")
    tray = TrayIcon(feed)
    opener = WindowOpener(web_url)

    def toggle_strip() -> None:
        strip.setVisible(not strip.isVisible())
        tray.set_strip_visible(strip.isVisible())

    def on_mute(seconds: object) -> None:
        # TODO(hub mute endpoint): forward to the hub so the mute holds on every desktop.
        log.info("mute requested: %s", "until cleared" if seconds is None else f"{seconds} s")

    strip.open_requested.connect(opener.on_open_requested)
    tray.open_requested.connect(opener.on_open_requested)
    tray.strip_toggle_requested.connect(toggle_strip)
    tray.settings_requested.connect(lambda: opener.open("settings"))
    tray.mute_requested.connect(on_mute)
    tray.quit_requested.connect(quit_event.set)
    strip.show()
    log.info("strip shown (%s)", "docked" if strip.docked else "floating")

    hub = None
    client = None
    try:
        url = hub_url
        if url is None:
            from studio_status.embedded import EmbeddedHub

            hub = EmbeddedHub(demo=demo)
            try:
                await hub.start()
            except Exception:
                log.exception("could not start the embedded hub")
                store.set_connection(ConnectionState.OFFLINE)
                hub = None
            else:
                url, token = hub.url, hub.token
        if url is not None:
            from studio_status.client import StatusClient

            client = StatusClient(url, store, token=token, cache=cache)
            tasks.add(client.start())
        await quit_event.wait()
        log.info("quitting")
    finally:
        opener.close_all()
        strip.close()
        tray.close()
        feed.close()
        if client is not None:
            await client.aclose()
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if hub is not None:
            await hub.stop()
        _remove_signal_handlers(loop)
    return 0


def _load_cache(store: Any) -> Any:
    """Paint the last good footer at once (stale); returns the cache for the client."""
    try:
        from studio_status.client.cache import SnapshotCache
    except ImportError:  # pragma: no cover - the client is always installed with the app
        return None
    cache = SnapshotCache()
    cached = cache.load()
    if cached is not None:
        store.load_cached(cached.footer, cached.role, cached.at)
    return cache


def _install_signal_handlers(loop: asyncio.AbstractEventLoop, stop: Callable[[], None]) -> None:
    """Ctrl+C and SIGTERM quit cleanly (Qt's loop would otherwise ignore them, pitfall 7)."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop)
        except (NotImplementedError, RuntimeError, ValueError):
            signal.signal(sig, lambda *_a: loop.call_soon_threadsafe(stop))


def _remove_signal_handlers(loop: asyncio.AbstractEventLoop) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.remove_signal_handler(sig)
        except (NotImplementedError, RuntimeError, ValueError):
            signal.signal(sig, signal.SIG_DFL)
