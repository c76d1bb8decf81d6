"""The app's wiring: one qasync loop, one store, the strip, the tray, the client, the hub.

Start-up order is chosen so the strip paints at once: the cached footer is loaded into the
store before the window shows (marked stale), then the embedded hub (when no hub URL is
given) and the client start behind it.

The loop is started one way (STYLE.md, qasync pitfall 5): a :class:`qasync.QEventLoop`
running :func:`_main` to completion. Quitting never calls ``QApplication.quit()`` from our
side: the tray's Quit, SIGINT/SIGTERM and ``aboutToQuit`` (session logout) all set one
:class:`asyncio.Event`; ``_main`` then closes the views, cancels and awaits its tasks and
stops the embedded hub, and returns (pitfall 6). ``asyncSlot`` errors and any other uncaught
exception go to a logging ``sys.excepthook`` (pitfall 3). Heavy modules (the client's
httpx/websockets, the embedded hub, detail windows) are imported when needed.

``QT_QPA_PLATFORM`` is never forced: on a Wayland session with XWayland the app asks for
``xcb`` only when the user has not chosen a platform (see :mod:`studio_status.ui.strip.docking`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from studio_status.desktop.single import SingleInstance
    from studio_status.ui.config import ConfigStore
    from studio_status.ui.notifier import DesktopNotices
    from studio_status.ui.notify import Notification
    from studio_status.ui.theme import Theme
    from studio_status.ui.tray import TrayIcon

__all__ = ["Options", "run"]

log = logging.getLogger("app")

#: How long the app waits for the strip's first paint before it connects anyway.
FIRST_PAINT_WAIT_SECONDS = 0.5


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


@dataclass
class Options:
    """What the command line asked for; anything unset comes from the settings."""

    hub_url: str | None = None
    token: str | None = None
    demo: bool = False
    #: the demo's simulated studio runs this many times real time (see :mod:`.pace`)
    speed: float = 1.0
    web_url: str | None = None
    profile: str | None = None
    config_path: Path | None = None
    #: Smoke run (packaging): quit once the first live snapshot is cached, or fail after N s.
    smoke_exit: float | None = None
    single_instance: bool = True


def run(
    *,
    hub_url: str | None = None,
    token: str | None = None,
    demo: bool = False,
    web_url: str | None = None,
    options: Options | None = None,
) -> int:
    """Run the app until quit; returns the process exit code."""
    from studio_status.qtimport import import_pyside

    import_pyside()  # before anything else: the imports below skip PySide6's source scan
    import qasync

    from studio_status.appconfig import ConfigFile
    from studio_status.ui.config import ConfigStore

    opts = options or Options(hub_url=hub_url, token=token, demo=demo, web_url=web_url)
    app = _make_app()
    config = ConfigStore(ConfigFile(opts.config_path))
    if opts.profile is not None and config.config.profile(opts.profile) is None:
        log.error("no profile named %r (have: %s)", opts.profile, _names(config))
        return 2
    if opts.profile is not None:
        config.switch_profile(opts.profile)
    instance = None
    if opts.single_instance and opts.smoke_exit is None:
        from studio_status.desktop.single import SingleInstance

        instance = SingleInstance(config.config.active.name)
        if not instance.claim():
            if instance.hand_off():
                log.info("Studio Status already runs for this profile: raised it")
                return 0
            log.error("another instance holds the lock but does not answer")
            return 1
    scratch = _paced_demo(opts)
    previous_hook = sys.excepthook
    sys.excepthook = _logging_excepthook
    loop = qasync.QEventLoop(app)
    # qasync's own default executor starts ten QThreads at its first job, all then waiting
    # for ever; the stdlib pool starts a thread per job when none is free, up to four
    loop.set_default_executor(ThreadPoolExecutor(max_workers=4, thread_name_prefix="app-io"))
    asyncio.set_event_loop(loop)
    quit_event = asyncio.Event()
    app.aboutToQuit.connect(quit_event.set)
    folder = None if scratch is None else Path(scratch.name)
    main = loop.create_task(_main(quit_event, opts, config, instance, folder), name="app-main")
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
            if instance is not None:
                instance.release()
            if scratch is not None:
                scratch.cleanup()
                from studio_status import pace

                pace.set_speed(None)


def _paced_demo(opts: Options) -> tempfile.TemporaryDirectory[str] | None:
    """A sped-up demo: the process's clock runs ``opts.speed`` times real time from now, and
    the demo's database and cache go to a folder removed at exit (rows dated in the paced
    future must never reach ``demo.sqlite3`` or the cache a later demo paints)."""
    if not opts.demo or opts.speed == 1.0:
        return None
    from studio_status import pace

    paced = pace.set_speed(opts.speed)
    assert paced is not None
    scratch = tempfile.TemporaryDirectory(prefix="studio-status-demo-")
    log.info(
        "demo pace: %g times real time from %s (its own clock, data in %s)",
        paced.speed,
        paced.epoch.isoformat(),
        scratch.name,
    )
    return scratch


def _names(config: ConfigStore) -> str:
    return ", ".join(p.name for p in config.config.profiles)


async def _main(
    quit_event: asyncio.Event,
    opts: Options,
    config: ConfigStore,
    instance: SingleInstance | None,
    scratch: Path | None = None,
) -> int:
    """``scratch``: a sped-up demo's folder for its hub's database and its cache."""
    loop = asyncio.get_running_loop()
    # first of all: a Ctrl+C during the imports below must quit cleanly too (pitfall 7)
    _install_signal_handlers(loop, quit_event.set)
    from studio_status.appconfig import Profile
    from studio_status.client.state import StatusStore
    from studio_status.session import ProfileSession
    from studio_status.tokens import TokenStore, TokenStoreError
    from studio_status.ui.feed import StateFeed
    from studio_status.ui.settings_store import SettingsStore
    from studio_status.ui.strip import StatusStrip
    from studio_status.ui.tray import TrayIcon
    from studio_status.ui.windows import WindowContext, WindowOpener

    tasks: set[asyncio.Task[Any]] = set()  # qasync keeps only weak refs (pitfall 4)
    exit_code = 0

    tokens = TokenStore(allow_insecure_file=config.config.insecure_token_file)

    def profile_now() -> Profile:
        """The active profile, with this run's command-line overrides (never saved)."""
        p = config.config.active
        changes = {"hub_url": opts.hub_url, "web_url": opts.web_url}
        return p.model_copy(update={k: v for k, v in changes.items() if v is not None})

    def token_for(profile: Profile) -> str | None:
        """The profile's token: the command line's, else the keyring's (None if none)."""
        if opts.token is not None:
            return opts.token
        if profile.hub_url is None:
            return None  # our own hub makes its own token; no keyring look-up on start
        if not tokens.usable:
            log.warning("%s", tokens.problem)
            store.set_app_problem("keyring", f"No keyring for tokens: {tokens.problem}")
            return None
        try:
            return tokens.get(profile.name)
        except TokenStoreError as exc:
            log.warning("%s", exc)
            return None

    #: --hub / --token replace the profile's connection for this run only: what they show
    #: (their role, their hub) is never written into the saved profile
    override = opts.hub_url is not None or opts.token is not None
    theme = _theme(config.config.theme.value)
    scratch_files: dict[str, Any] = (
        {} if scratch is None else {"database": scratch / "demo.sqlite3", "cache_dir": scratch}
    )
    store = StatusStore()
    feed = StateFeed(store)
    profile = profile_now()
    session = ProfileSession(
        store,
        profile,
        token=token_for(profile),
        refresh=config.config.refresh,
        demo=opts.demo,
        override=override,
        **scratch_files,
    )
    session.paint_cached()
    strip = StatusStrip(
        feed, SettingsStore(config), theme=theme, hub_label=profile.hub_url or "embedded hub"
    )
    tray = TrayIcon(feed, theme=theme, notifications=config.config.notifications)
    tray.set_profiles([p.name for p in config.config.profiles], profile.name)
    windows = WindowContext(feed, theme=theme, web_url=profile.web_url)  # + details: attach
    opener = WindowOpener(context=windows)
    settings_window: Any = None

    def renew_opener(web_url: str | None) -> None:
        """Windows of the old profile close; new ones link to the new web UI."""
        nonlocal opener
        if web_url != opener_web_url[0]:
            opener.close_all()
            windows.web_url = web_url
            opener = WindowOpener(context=windows)
            opener_web_url[0] = web_url

    opener_web_url = [profile.web_url]

    def open_window(name: str) -> None:
        opener.on_open_requested(name)  # the opener in use now (a profile switch renews it)

    def toggle_strip() -> None:
        strip.setVisible(not strip.isVisible())
        tray.set_strip_visible(strip.isVisible())

    def on_mute(seconds: object) -> None:
        """The tray mutes at once locally; an admin's mute also goes to the hub, so it holds
        on every desktop of the user and the hub holds the notices (other roles may not
        mute the hub: their mute stays on this desktop)."""
        log.info("mute requested: %s", "until cleared" if seconds is None else f"{seconds} s")
        from studio_status.protocol import Role

        if windows.details is not None and store.state.role is Role.ADMIN:
            windows.details.request_mute(seconds if isinstance(seconds, int) else None)

    def open_settings() -> None:
        nonlocal settings_window
        if settings_window is None:
            from studio_status.ui.settings_window import SettingsWindow

            settings_window = SettingsWindow(config, tokens, feed)
            settings_window.token_changed.connect(on_token_changed)
        settings_window.show()
        settings_window.raise_()
        settings_window.activateWindow()

    def on_token_changed(name: str) -> None:
        if name == session.profile.name and opts.token is None:
            session.set_token(token_for(session.profile))

    def on_raise_requested(_message: object) -> None:
        strip.show()
        strip.raise_()
        tray.set_strip_visible(True)
        tray.show_message("Studio Status is already running", f"Profile: {session.profile.name}")

    switching = asyncio.Lock()

    async def restart_session() -> None:
        nonlocal session
        async with switching:
            new = profile_now()
            old = session.profile
            if (new.name, new.hub_url, new.verify) == (old.name, old.hub_url, old.verify):
                session.profile = new  # only the web URL or role changed: no reconnect
                renew_opener(new.web_url)
                return
            log.info("switching profile %r -> %r", old.name, new.name)
            await windows.attach(None, store)
            await session.stop()
            store.reset()
            tray.reset_notifications()
            session = ProfileSession(
                store,
                new,
                token=token_for(new),
                refresh=config.config.refresh,
                demo=opts.demo,
                override=override,
                **scratch_files,
            )
            session.paint_cached()
            strip.connection.set_hub(new.hub_url or "embedded hub")
            renew_opener(new.web_url)
            if instance is not None and not instance.rekey(new.name):
                log.info("another instance already shows profile %r", new.name)
            started = await session.start()
            await windows.attach(session.client, store)
            if started is not None:
                tasks.add(started)

    def spawn(coro: Any, name: str) -> None:
        task = loop.create_task(coro, name=name)
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    def on_config_changed(name: str) -> None:
        c = config.config
        if name in ("active_profile", "profiles"):
            tray.set_profiles([p.name for p in c.profiles], c.active.name)
            spawn(restart_session(), "profile-switch")
        elif name.startswith("strip."):
            strip.set_edge(c.strip.edge)
            strip.set_screen(c.strip.screen)
            strip.set_collapsed(c.strip.collapsed)
            strip.set_order(c.strip.order)
            if name == "strip.shortcut":
                strip.set_shortcut(c.strip.shortcut)
        elif name.startswith("notifications."):
            tray.set_notification_settings(c.notifications)
        elif name == "theme":  # applies at once: strip, tray icon, open windows
            chosen = _theme(c.theme.value)
            strip.set_theme(chosen)
            tray.set_theme(chosen)
            opener.set_theme(chosen)
        elif name == "start_at_login":
            _apply_autostart(c.start_at_login)
        elif name == "insecure_token_file":
            tokens.allow_insecure_file = c.insecure_token_file

    def on_role_seen(state: Any) -> None:
        """Remember the role the hub gave the profile's own token (shown in Settings); a
        token or hub from the command line is not the profile's, so nothing is saved."""
        if override or state.cached:
            return
        role = state.role
        active = config.config.active
        if role is not None and role != active.role and session.profile.name == active.name:
            config.set_profile(active.model_copy(update={"role": role}), replacing=active.name)

    config.changed.connect(on_config_changed)
    feed.changed.connect(on_role_seen)
    strip.open_requested.connect(open_window)
    tray.open_requested.connect(open_window)
    tray.strip_toggle_requested.connect(toggle_strip)
    tray.settings_requested.connect(open_settings)

    def on_app_problem_clicked(key: str) -> None:
        """The user saw the problem and went to deal with it: Settings, and the mark goes."""
        if key == "settings":
            store.set_app_problem(key, None)
        open_settings()

    tray.app_problem_clicked.connect(on_app_problem_clicked)
    tray.profile_requested.connect(config.switch_profile)
    tray.mute_requested.connect(on_mute)
    tray.quit_requested.connect(quit_event.set)
    if instance is not None:
        instance.raise_requested.connect(on_raise_requested)
    painted = asyncio.Event()
    strip.first_painted.connect(painted.set)
    strip.show()
    log.info("strip shown (%s)", "docked" if strip.docked else "floating")
    for problem in config.loaded.problems:
        tray.show_message("Settings file repaired", problem)
    if config.loaded.problems:
        # a balloon is gone in seconds: the problem stays on the strip and atop the tray menu
        store.set_app_problem(
            "settings", "Settings file repaired: " + "; ".join(config.loaded.problems)
        )
    # paint first, connect second: the client's imports (httpx, websockets) and the
    # connection would otherwise hold back the cached snapshot's first paint; bounded, for
    # a strip that is never exposed (no compositor yet, hidden on an unmapped screen)
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(FIRST_PAINT_WAIT_SECONDS):
            await painted.wait()

    notices = _desktop_notices(tray, open_window)
    try:
        started = await session.start()
        await windows.attach(session.client, store)
        if started is not None:
            tasks.add(started)
        smoke = None
        if opts.smoke_exit is not None:
            smoke = loop.create_task(
                _smoke(store, lambda: session, strip, opts.smoke_exit, quit_event), name="smoke"
            )
            tasks.add(smoke)
        await quit_event.wait()
        if smoke is not None:
            exit_code = 0 if smoke.done() and not smoke.cancelled() and smoke.result() else 1
        log.info("quitting")
    finally:
        if settings_window is not None:
            settings_window.close()
        opener.close_all()
        strip.close()
        tray.close()
        feed.close()
        await notices.aclose()
        await windows.attach(None, store)
        await session.stop()
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        _remove_signal_handlers(loop)
    return exit_code


async def _smoke(
    store: Any, session: Callable[[], Any], strip: Any, limit: float, quit_event: asyncio.Event
) -> bool:
    """Smoke run: wait for live data, write the snapshot cache, report, quit.

    The report also says where the strip went (platform, docked, space reserved,
    geometry), so a packaged build or a new desktop can be checked from one line.
    """
    from PySide6.QtGui import QGuiApplication

    from studio_status.client.state import ConnectionState

    ok = False

    changed = asyncio.Event()
    unsubscribe = store.subscribe(lambda _s: changed.set())
    try:
        async with asyncio.timeout(limit):
            while not (store.state.connection is ConnectionState.LIVE and store.state.footer):
                changed.clear()
                await changed.wait()
        cache = session().cache
        cache.save(store.state.footer, store.state.role, store.state.updated_at)
        cache.flush(force=True)
        ok = cache.path.exists()
        g = strip.geometry()
        report = {
            "event": "smoke",
            "ok": ok,
            "cache": str(cache.path),
            "platform": QGuiApplication.platformName(),
            "docked": strip.docked,
            "reserves_space": strip.reserves_space,
            "visible": strip.isVisible(),
            "geometry": [g.x(), g.y(), g.width(), g.height()],
        }
        print(json.dumps(report), flush=True)
    except TimeoutError:
        print(json.dumps({"event": "smoke", "ok": False, "error": "no live data"}), flush=True)
    finally:
        unsubscribe()
        quit_event.set()
    return ok


def _theme(choice: str) -> Theme:
    from studio_status.ui.theme import DARK, LIGHT, current_theme

    return {"light": LIGHT, "dark": DARK}.get(choice) or current_theme()


def _apply_autostart(enabled: bool) -> None:
    from studio_status.desktop.autostart import AutostartError, for_platform

    try:
        entry = for_platform()
        if enabled:
            entry.enable()
        else:
            entry.disable()
    except AutostartError as exc:
        log.warning("start at login: %s", exc)


def _install_signal_handlers(loop: asyncio.AbstractEventLoop, stop: Callable[[], None]) -> None:
    """Ctrl+C and SIGTERM quit cleanly (Qt's loop would otherwise ignore them, pitfall 7)."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop)
        except (NotImplementedError, RuntimeError, ValueError):
            signal.signal(sig, lambda *_a: loop.call_soon_threadsafe(stop))


class _LazyNotices:
    """The desktop notifier (``ui/notifier.py``), loaded at the first notification.

    desktop-notifier and its D-Bus stack cost ~4 MB and their imports; an always-on strip
    may go hours without a notice, so it pays for them only when one is due. Where the
    library cannot load, the tray's balloon shows every notice.
    """

    def __init__(self, tray: TrayIcon, open_window: Callable[[str], None]) -> None:
        self._tray = tray
        self._open_window = open_window
        self.notices: DesktopNotices | None = None
        self._failed = False

    def show(self, note: Notification) -> None:
        if self.notices is None and not self._failed:
            try:
                from studio_status.ui.notifier import DesktopNotices
            except ImportError as exc:
                log.info("desktop notifications unavailable (%s); using the tray's balloon", exc)
                self._failed = True
            else:
                self.notices = DesktopNotices(self._tray.show_balloon)
                self.notices.open_requested.connect(self._open_window)
                self.notices.mute_requested.connect(self._tray.request_mute)
        if self.notices is None:
            self._tray.show_balloon(note)
        else:
            self.notices.show(note)

    async def aclose(self) -> None:
        if self.notices is not None:
            await self.notices.aclose()


def _desktop_notices(tray: TrayIcon, open_window: Callable[[str], None]) -> _LazyNotices:
    """Notices to the desktop's notification centre with "Open" and "Mute 1 h", the
    tray's balloon as the fallback (see :class:`_LazyNotices`)."""
    notices = _LazyNotices(tray, open_window)
    tray.notifier = notices.show
    return notices


def _remove_signal_handlers(loop: asyncio.AbstractEventLoop) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.remove_signal_handler(sig)
        except (NotImplementedError, RuntimeError, ValueError):
            signal.signal(sig, signal.SIG_DFL)
