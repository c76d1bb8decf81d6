"""Command line: ``studio-status`` (the app), ``demo``, ``hub``, ``status``, ``install-desktop``,
``autostart``, ``config``.

Kept import-light: each sub-command imports what it needs when it runs, so the app's
start-up does not pay for the hub's server stack and the other way round.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main"]

TOKEN_ENV = "STUDIO_STATUS_TOKEN"
BOOTSTRAP_ENV = "STUDIO_STATUS_BOOTSTRAP_TOKEN"


DESCRIPTION = """\
A status strip and tray icon for a studio's services, jobs, workflows and
cloud GPUs, and the hub they talk to. With no command the strip and tray
open, against a hub of their own when no --hub is given or configured."""

EXAMPLES = """\
examples:
  studio-status                        open the strip and tray
  studio-status demo                   a first look: a simulated studio
  studio-status demo --speed 20        20 times faster; keeps nothing
  studio-status --hub https://hub.example:8765 --token ss_...
                                       the strip against a team's hub
  studio-status status                 the studio's state in one line
  studio-status hub --config hub.toml  run a hub for a team
  studio-status hub token create --role admin
                                       make a token (printed once)
  studio-status config --reference     every app setting, documented

Settings, profiles and Quit are in the tray icon's menu.
Run "studio-status COMMAND --help" for a command's own options."""

STATUS_EXAMPLES = """\
exit status (Nagios style, the first word printed):
  0 OK        every service healthy
  1 WARNING   a service is degraded
  2 CRITICAL  a service is down
  3 UNKNOWN   the hub cannot be asked

examples:
  studio-status status                  the active profile's hub and token
  studio-status status --profile Studio another profile
  studio-status status --json --hub https://hub.example:8765 --token ss_...
  studio-status status --hub https://hub.lan --ca ca.pem   a private CA
  studio-status status --hub 127.0.0.1:8765   no scheme: http://"""


def _formatter(prog: str) -> argparse.HelpFormatter:
    """Help text as written (examples keep their columns), wrapped to the terminal."""
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=32)


def _target_options(hub_help: str) -> argparse.ArgumentParser:
    """Which hub, with which token: the options the app and ``status`` share."""
    target = argparse.ArgumentParser(add_help=False)
    target.add_argument("--hub", metavar="URL", help=hub_help)
    target.add_argument(
        "--token", help=f"hub token (default: ${TOKEN_ENV}, else the profile's in the keyring)"
    )
    target.add_argument(
        "--profile", metavar="NAME", help="settings profile to use (default: the active one)"
    )
    target.add_argument(
        "--config", dest="app_config", type=Path, metavar="FILE", help="app settings file"
    )
    target.add_argument("-v", "--verbose", action="store_true", help="log more (debug level)")
    return target


def _parser() -> argparse.ArgumentParser:
    from studio_status import __version__

    common = argparse.ArgumentParser(
        add_help=False, parents=[_target_options("hub to connect to (default: run one locally)")]
    )
    common.add_argument("--web-url", metavar="URL", help="platform web UI for 'Open in browser'")
    common.add_argument(
        "--smoke-exit",
        type=float,
        metavar="SECONDS",
        help="smoke test: quit once the first live snapshot is cached (exit 0), or fail "
        "after SECONDS (exit 1)",
    )
    p = argparse.ArgumentParser(
        prog="studio-status",
        description=DESCRIPTION,
        epilog=EXAMPLES,
        parents=[common],
        formatter_class=_formatter,
    )
    p.add_argument("--version", action="version", version=f"studio-status {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    demo = sub.add_parser(
        "demo", parents=[common], help="run the app against a local hub with a simulated studio"
    )
    demo.add_argument(
        "--speed",
        default="1",
        metavar="N",
        help="the simulated studio runs N times faster (1 to 60; default 1): a day's "
        "incidents in minutes; times shown are the demo's own, so nothing is kept",
    )

    hub = sub.add_parser("hub", help="run the status hub")
    hub.add_argument("-v", "--verbose", action="store_true")
    hub.add_argument("--config", type=Path, help="hub TOML config (default: user config dir)")
    hub.add_argument("--host", help="listen address (default 127.0.0.1)")
    hub.add_argument("--port", type=int, help="listen port (default 8765; 0 picks a free one)")
    hub.add_argument(
        "--database",
        type=_database_arg,
        metavar="PATH|URL",
        help="SQLite database path, or a postgresql:// URL (shared by several hubs)",
    )
    hub.add_argument(
        "--simulate",
        action="store_true",
        help="also run the studio simulator (jobs, workflows, pods, a flapping service), "
        "clearly marked as simulated, in its own database (demo.sqlite3) unless --database",
    )
    hub.add_argument("--seed", type=int, default=7, help="simulator seed (same seed, same run)")
    hub.add_argument(
        "--embedded",
        action="store_true",
        help="child-process mode: print a JSON ready line, exit when stdin closes",
    )
    hub_sub = hub.add_subparsers(dest="hub_command")
    token = hub_sub.add_parser("token", help="manage API tokens")
    token_sub = token.add_subparsers(dest="token_command", required=True)
    create = token_sub.add_parser("create", help="create a token and print it once")
    create.add_argument("--role", required=True, choices=["admin", "creator", "reviewer"])
    create.add_argument("--name", default="cli")
    token_sub.add_parser("list", help="list tokens (ids and roles, never secrets)")
    revoke = token_sub.add_parser("revoke", help="revoke a token by id")
    revoke.add_argument("token_id")

    copy = hub_sub.add_parser(
        "migrate-db",
        help="copy a SQLite hub database (history, alerts, tokens, settings) into PostgreSQL",
    )
    copy.add_argument(
        "--from",
        dest="source",
        type=Path,
        metavar="FILE",
        help="the SQLite database (default: the configured or default one)",
    )
    copy.add_argument(
        "--to",
        dest="target",
        metavar="URL",
        help="the postgresql:// database to fill (default: the configured --database URL)",
    )

    status = sub.add_parser(
        "status",
        parents=[_target_options("hub to ask (default: the profile's hub)")],
        help="print the studio's state in one line, Nagios style",
        description="Print the studio's state in one line and exit with its Nagios code.",
        epilog=STATUS_EXAMPLES,
        formatter_class=_formatter,
    )
    status.add_argument("--json", action="store_true", help="print the hub's answer as JSON")
    status.add_argument(
        "--ca",
        type=Path,
        metavar="FILE",
        help="trust this CA bundle (a private CA, a self-signed hub)",
    )
    status.add_argument(
        "--insecure", action="store_true", help="do not check the hub's certificate at all"
    )

    desk = sub.add_parser(
        "install-desktop", help="install the desktop entry and icons for this user (XDG)"
    )
    desk.add_argument("--uninstall", action="store_true", help="remove them again")
    auto = sub.add_parser("autostart", help="start at login: on, off, or show the state")
    auto.add_argument("state", nargs="?", choices=["on", "off"])
    conf = sub.add_parser("config", help="show where the app settings are, or document them")
    conf.add_argument("--reference", action="store_true", help="print every setting (Markdown)")
    conf.add_argument("--config", dest="app_config", type=Path, metavar="FILE")
    return p


def _speed(value: str) -> float:
    """``demo --speed``; ValueError in the user's words (checked after parsing, so a bad
    value is one line, not argparse's usage block)."""
    from studio_status.pace import MAX_SPEED

    try:
        speed = float(value)
    except ValueError:
        speed = float("nan")
    if not 1.0 <= speed <= MAX_SPEED:  # also refuses nan and inf
        raise ValueError(f"the speed must be a number from 1 to {MAX_SPEED:g}")
    return speed


def _database_arg(value: str) -> Path | str:
    from studio_status.hub.store.postgres import is_postgres_url

    return value if is_postgres_url(value) else Path(value)


#: Installed packages that a library imports only because they are there, and that no
#: Studio Status process uses: httpcore imports trio at import time to support running under
#: it (~90 ms and ~50 modules in every app and hub that has trio installed). FastAPI imports
#: pydantic's whole v1 compatibility package (~1.7 MB, 20 modules) at the first route, only
#: to ask whether a route's model is a v1 model (none is). Refused here, in processes that
#: are ours alone; each library falls back as when it is not installed.
UNUSED_OPTIONAL_IMPORTS = ("trio", "pydantic.v1")


def refuse_unused_imports() -> None:
    """Make :data:`UNUSED_OPTIONAL_IMPORTS` look not installed in this process."""
    for name in UNUSED_OPTIONAL_IMPORTS:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]


def main(argv: Sequence[str] | None = None) -> int:
    refuse_unused_imports()
    args = _parser().parse_args(argv)
    verbose = bool(getattr(args, "verbose", False))
    if args.command in (None, "demo"):
        from studio_status import logs

        logs.setup(verbose=verbose)  # the app: stderr + the rotated file, tokens redacted
    else:
        logging.basicConfig(
            level=logging.DEBUG if verbose else logging.INFO,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            stream=sys.stderr,
        )
        logging.getLogger("httpx").setLevel(logging.WARNING)
    if args.command == "hub":
        return _hub(args)
    if args.command == "status":
        from studio_status.status_cmd import UsageError, resolve_target, run_status

        try:
            target = resolve_target(
                args.hub,
                args.token or os.environ.get(TOKEN_ENV),
                args.profile,
                args.app_config,
                ca=args.ca,
                insecure=args.insecure,
            )
        except (LookupError, UsageError) as exc:
            print(f"UNKNOWN: studio-status status: {exc}")
            print(f"studio-status status: {exc}", file=sys.stderr)
            return 3
        return run_status(target, as_json=args.json)
    if args.command == "install-desktop":
        return _install_desktop(args.uninstall)
    if args.command == "autostart":
        return _autostart(args.state)
    if args.command == "config":
        return _config(args)
    from studio_status.app import Options, run
    from studio_status.appconfig import hub_url

    try:
        hub = hub_url(args.hub) if args.hub is not None else None
    except ValueError as exc:
        print(f"studio-status: --hub {args.hub!r}: {exc}", file=sys.stderr)
        return 2
    try:
        speed = _speed(args.speed) if args.command == "demo" else 1.0
    except ValueError as exc:
        print(f"studio-status demo: --speed {args.speed!r}: {exc}", file=sys.stderr)
        return 2
    return run(
        options=Options(
            hub_url=hub,
            token=args.token or os.environ.get(TOKEN_ENV),
            demo=args.command == "demo",
            speed=speed,
            web_url=args.web_url,
            profile=args.profile,
            config_path=args.app_config,
            smoke_exit=args.smoke_exit,
        )
    )


def _install_desktop(uninstall: bool) -> int:
    from studio_status.desktop import install

    try:
        files = install.uninstall() if uninstall else install.install()
    except OSError as exc:
        print(f"studio-status install-desktop: {exc}", file=sys.stderr)
        return 1
    for path in files:
        print(path)
    return 0


def _autostart(state: str | None) -> int:
    from studio_status.desktop.autostart import AutostartError, for_platform

    entry = for_platform()
    try:
        if state == "on":
            entry.enable()
        elif state == "off":
            entry.disable()
    except AutostartError as exc:
        print(f"studio-status autostart: {exc}", file=sys.stderr)
        return 1
    print("on" if entry.enabled() else "off")
    return 0


def _config(args: argparse.Namespace) -> int:
    from studio_status.appconfig import ConfigFile, reference

    if args.reference:
        print(reference(), end="")
        return 0
    loaded = ConfigFile(args.app_config).load()
    print(ConfigFile(args.app_config).path)
    for problem in loaded.problems:
        print(problem, file=sys.stderr)
    return 1 if loaded.problems else 0


def _hub(args: argparse.Namespace) -> int:
    from studio_status.hub.config import ConfigError
    from studio_status.hub.preflight import check_database, preflight
    from studio_status.hub.resolve import configure

    try:
        config, origin = configure(
            args.config,
            host=args.host,
            port=0 if args.embedded and args.port is None else args.port,
            database=args.database,
            simulate=args.simulate,
        )
        if args.hub_command == "token" and isinstance(config.database(), Path):
            problem = check_database(config.database_path())
            if problem:
                raise ConfigError(f"{origin}: hub.database: {problem}")
        else:
            preflight(config, origin)
    except ConfigError as exc:
        print(f"studio-status hub: {exc}", file=sys.stderr)
        return 2
    if args.hub_command == "token":
        return asyncio.run(_token(config, args))
    if args.hub_command == "migrate-db":
        return asyncio.run(_migrate_db(config, args))
    return _serve(config, embedded=args.embedded, seed=args.seed if args.simulate else None)


def _serve(config: object, *, embedded: bool, seed: int | None) -> int:
    from studio_status.hub.config import HubConfig
    from studio_status.hub.server import serve
    from studio_status.hub.service import Hub

    assert isinstance(config, HubConfig)
    bootstrap = os.environ.pop(BOOTSTRAP_ENV, None) or None

    def ready(hub: Hub, url: str) -> None:
        line = {"event": "ready", "url": url, "pid": os.getpid(), "hub_id": hub.bus.hub_id}
        if hub.ownership is not None:  # one of several replicas on PostgreSQL
            line["replica"] = hub.replica_id
        print(json.dumps(line), flush=True)

    async def run() -> None:
        stop = asyncio.Event()
        if embedded:
            loop = asyncio.get_running_loop()

            def watch_parent() -> None:
                # the parent holds our stdin; EOF means it exited or died
                while sys.stdin.buffer.read(1024):
                    pass
                loop.call_soon_threadsafe(stop.set)

            threading.Thread(target=watch_parent, daemon=True, name="parent-watch").start()
        await serve(
            config, bootstrap_token=bootstrap, on_ready=ready, stop=stop, simulate_seed=seed
        )

    try:
        asyncio.run(run())
    except OSError as exc:
        print(
            f"studio-status hub: cannot listen on {config.hub.host}:{config.hub.port}: {exc}",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        pass
    return 0


async def _token(config: object, args: argparse.Namespace) -> int:
    from studio_status.hub.auth import TokenAuth
    from studio_status.hub.config import HubConfig
    from studio_status.hub.store import create_store
    from studio_status.hub.store.sqlite import StoreError
    from studio_status.protocol import Role

    assert isinstance(config, HubConfig)
    store = create_store(config.database())
    try:
        await store.open()
        if args.token_command == "create":
            token = await TokenAuth(store).create(Role(args.role), args.name)
            print(token)
            # a token lives in one database: say which, so one made for the wrong hub shows
            print(
                f"studio-status hub token: created in {store.location};"
                " valid for the hub that uses this database",
                file=sys.stderr,
            )
        elif args.token_command == "list":
            for row in await store.list_tokens():
                state = "revoked" if row.revoked else "active"
                print(f"{row.id}\t{row.role.value}\t{state}\t{row.name}")
        elif not await store.revoke_token(args.token_id):
            print(f"no active token with id {args.token_id}", file=sys.stderr)
            return 1
    except StoreError as exc:
        print(f"studio-status hub token: {exc}", file=sys.stderr)
        return 1
    finally:
        await store.close()
    return 0


async def _migrate_db(config: object, args: argparse.Namespace) -> int:
    from studio_status.hub.config import HubConfig, default_data_dir
    from studio_status.hub.store.copy import copy_sqlite_to_postgres
    from studio_status.hub.store.postgres import is_postgres_url
    from studio_status.hub.store.sqlite import StoreError

    assert isinstance(config, HubConfig)
    configured = config.database()
    target = args.target or (configured if isinstance(configured, str) else None)
    if target is None or not is_postgres_url(target):
        print(
            "studio-status hub migrate-db: name the PostgreSQL database with"
            " --to postgresql://user:password@host/database",
            file=sys.stderr,
        )
        return 2
    source = args.source or (
        configured if isinstance(configured, Path) else default_data_dir() / "hub.sqlite3"
    )

    try:
        report = await copy_sqlite_to_postgres(source, target)
    except StoreError as exc:
        print(f"studio-status hub migrate-db: {exc}", file=sys.stderr)
        return 1
    print("\n".join(report.lines()))
    return 0
