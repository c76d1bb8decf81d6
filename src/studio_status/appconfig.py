"""The app's settings: one declarative schema, stored as TOML, read once, typed everywhere.

Every option is declared here once, with its type, default, validation and description
(qutebrowser's ``configdata.yml`` is the model): the settings window, the docs
(:func:`reference`) and the file format all come from these classes, and code reads typed
attributes, never raw keys. No Qt here; :class:`studio_status.ui.config.ConfigStore` adds
the ``changed(name)`` signal on top.

The file is ``app.toml`` under ``platformdirs.user_config_dir("studio-status")``, beside the
hub's ``hub.toml``. Tokens are never in it (see :mod:`studio_status.tokens`).

A file that cannot be used never stops the app and is never destroyed:

* not TOML at all (or not UTF-8 text): it is kept as ``app.toml.bad``, reported plainly,
  and defaults are used;
* TOML with bad values or unknown keys: each bad value is reported with its dotted name
  and replaced by its default, the others are kept; the original is copied to
  ``app.toml.bad`` and the repaired file written in its place.

The strip's earlier ``strip.json`` (before this schema existed) is migrated once into the
``[strip]`` table and renamed ``strip.json.migrated``.

Example::

    active_profile = "Studio"
    theme = "dark"

    [[profiles]]
    name = "Studio"
    hub_url = "https://status.studio.example"
    web_url = "https://studio.example"

    [strip]
    edge = "top"
    order = ["jobs", "workflows", "services", "cloud_gpu"]

    [notifications]
    quiet_hours = true
    quiet_start = 22:00:00
    quiet_end = 07:00:00
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
import tomllib
from dataclasses import dataclass, fields
from datetime import time
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic import dataclasses as pydantic_dataclasses

from studio_status.client.state import Segment
from studio_status.protocol import Role

__all__ = [
    "CONFIG_NAME",
    "DEFAULT_ORDER",
    "DEFAULT_PROFILE",
    "DEFAULT_SHORTCUT",
    "AppConfig",
    "ConfigFile",
    "Edge",
    "LoadResult",
    "NotificationSettings",
    "Profile",
    "RefreshSettings",
    "StripSettings",
    "ThemeChoice",
    "Transition",
    "changed_names",
    "default_config_dir",
    "hub_url",
    "normalize_order",
    "reference",
]

log = logging.getLogger("app.config")

CONFIG_NAME = "app.toml"
DEFAULT_PROFILE = "Local"
#: Seed 000, 2.3: services → cloud GPU → workflows → jobs.
DEFAULT_ORDER: tuple[Segment, ...] = (
    Segment.SERVICES,
    Segment.CLOUD_GPU,
    Segment.WORKFLOWS,
    Segment.JOBS,
)
DEFAULT_SHORTCUT = "Ctrl+Alt+S"
_MAX_REPAIRS = 50


def default_config_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir("studio-status"))


class Edge(StrEnum):
    TOP = "top"
    BOTTOM = "bottom"


class ThemeChoice(StrEnum):
    SYSTEM = "system"
    LIGHT = "light"
    DARK = "dark"


class Transition(StrEnum):
    """The state changes a desktop notification can be asked for."""

    SERVICE_DEGRADED = "service_degraded"
    SERVICE_DOWN = "service_down"
    SERVICE_RECOVERED = "service_recovered"
    JOB_FAILED = "job_failed"
    POD_ERROR = "pod_error"
    BUDGET_EXCEEDED = "budget_exceeded"


def normalize_order(order: list[str] | tuple[str, ...]) -> tuple[Segment, ...]:
    """Known segments in the given order, each once, missing ones appended in default order."""
    seen: list[Segment] = []
    for name in order:
        try:
            seg = Segment(name)
        except ValueError:
            continue
        if seg not in seen:
            seen.append(seg)
    return (*seen, *(s for s in DEFAULT_ORDER if s not in seen))


def hub_url(value: str) -> str:
    """A hub address as people type it, made a URL: ``127.0.0.1:8765`` and
    ``studio.lan`` mean ``http://`` (as browsers read them); anything else that is not an
    ``http(s)://host`` URL raises ValueError saying what is wrong. Several replicas of one
    hub are their addresses separated by commas, each made a URL."""
    if "," in value:
        replicas = [p for p in value.split(",") if p.strip()]
        if not replicas:
            raise ValueError("must be an http:// or https:// URL with a host")
        return ", ".join(hub_url(p) for p in replicas)
    value = value.strip()
    if value and "://" not in value:
        value = "http://" + value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in value:
        raise ValueError("must be an http:// or https:// URL with a host")
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise ValueError("the port must be a number from 1 to 65535") from None
    return value.rstrip("/")


def _check_url(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    return hub_url(value)


_STRICT = ConfigDict(extra="forbid", validate_default=True)


@pydantic_dataclasses.dataclass(frozen=True, config=_STRICT)
class StripSettings:
    """The strip: where it docks, whether it is collapsed, the segment order.

    A (pydantic) dataclass so the strip can keep using :func:`dataclasses.replace`, and a
    change is validated like a value read from the file.
    """

    edge: Edge = Field(default=Edge.BOTTOM, description="Screen edge the strip docks to.")
    screen: str | None = Field(
        default=None, description="Screen (output name) to dock on; unset: the primary screen."
    )
    collapsed: bool = Field(default=False, description="Collapsed to a 4 px line.")
    order: tuple[Segment, ...] = Field(
        default=DEFAULT_ORDER,
        description="Segment order, left to right; missing segments are appended.",
    )
    shortcut: str = Field(
        default=DEFAULT_SHORTCUT, min_length=1, description="Collapse / expand shortcut."
    )

    @field_validator("order", mode="before")
    @classmethod
    def _order(cls, value: object) -> object:
        if isinstance(value, list | tuple) and all(isinstance(s, str) for s in value):
            unknown = [s for s in value if s not in {seg.value for seg in Segment}]
            if unknown:
                raise ValueError(f"unknown segment(s) {', '.join(map(repr, unknown))}")
            return normalize_order(list(value))
        return value


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class Profile(_Section):
    """One platform (hub) this desktop can show. The token lives in the keyring."""

    name: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[^\x00-\x1f/\\]+$",
        description="Name shown in the tray and settings; also the keyring user name.",
    )
    hub_url: str | None = Field(
        default=None,
        description="Hub to connect to; unset: run a hub on this machine. Several replicas"
        " of one hub: their URLs separated by commas, tried in turn.",
    )
    web_url: str | None = Field(
        default=None, description="The platform's web UI, for 'Open in browser'."
    )
    role: Role | None = Field(
        default=None, description="Role the hub gave this profile's token (shown, not set)."
    )
    verify: bool | str = Field(
        default=True,
        description="Hub certificate check: true (the system's CAs), a CA bundle file for a "
        "private CA or a self-signed hub, or false (no check; the strip says so).",
    )

    @field_validator("verify")
    @classmethod
    def _verify(cls, value: bool | str) -> bool | str:
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return True
            return str(Path(value).expanduser())
        return value

    @field_validator("web_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return _check_url(value)

    @field_validator("hub_url")
    @classmethod
    def _hub_urls(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        urls = [_check_url(part) for part in value.split(",") if part.strip()]
        return ", ".join(u for u in urls if u) or None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be blank")
        return value


class NotificationSettings(_Section):
    """Desktop notifications: which transitions, quiet hours, sound."""

    enabled: bool = Field(default=True, description="Show desktop notifications at all.")
    transitions: tuple[Transition, ...] = Field(
        default=tuple(Transition), description="Which state changes are notified."
    )
    quiet_hours: bool = Field(
        default=False, description="Hold notifications between quiet_start and quiet_end."
    )
    quiet_start: time = Field(default=time(22, 0), description="Quiet hours begin (local time).")
    quiet_end: time = Field(default=time(7, 0), description="Quiet hours end (local time).")
    sound: bool = Field(default=False, description="Play the desktop's notification sound.")
    native: bool = Field(
        default=True,
        description="Use the desktop's own notifier where there is one (else the tray's balloon).",
    )

    @field_validator("transitions", mode="before")
    @classmethod
    def _unique(cls, value: object) -> object:
        if isinstance(value, list | tuple):
            return tuple(dict.fromkeys(value))
        return value

    def is_quiet(self, now: time) -> bool:
        """True inside quiet hours; a range past midnight (22:00–07:00) wraps."""
        if not self.quiet_hours or self.quiet_start == self.quiet_end:
            return False
        if self.quiet_start < self.quiet_end:
            return self.quiet_start <= now < self.quiet_end
        return now >= self.quiet_start or now < self.quiet_end


class RefreshSettings(_Section):
    """How often to ask, and when data counts as stale."""

    poll_seconds: float = Field(
        default=30.0,
        ge=5.0,
        le=3600.0,
        description="REST poll interval while the event stream is down.",
    )
    stale_after_seconds: float = Field(
        default=30.0,
        ge=10.0,
        le=3600.0,
        description="Mark data stale after this long without word from the hub "
        "(never sooner than two missed hub heartbeats).",
    )


def _default_profiles() -> tuple[Profile, ...]:
    return (Profile(name=DEFAULT_PROFILE),)


class AppConfig(_Section):
    """Everything the app remembers between runs (except tokens: see the keyring)."""

    active_profile: str = Field(
        default=DEFAULT_PROFILE, description="Name of the profile shown now."
    )
    theme: ThemeChoice = Field(
        default=ThemeChoice.SYSTEM, description="Colours: follow the desktop, light or dark."
    )
    start_at_login: bool = Field(default=False, description="Start Studio Status at login.")
    insecure_token_file: bool = Field(
        default=False,
        description="Where no keyring is available, keep tokens in a 0600 file in the "
        "config folder instead (opt-in, less safe than a keyring).",
    )
    profiles: tuple[Profile, ...] = Field(
        default_factory=_default_profiles, min_length=1, description="Platforms to choose from."
    )
    strip: StripSettings = Field(default_factory=StripSettings)
    notifications: NotificationSettings = Field(default_factory=NotificationSettings)
    refresh: RefreshSettings = Field(default_factory=RefreshSettings)

    @field_validator("profiles")
    @classmethod
    def _unique_names(cls, value: tuple[Profile, ...]) -> tuple[Profile, ...]:
        names = [p.name.casefold() for p in value]
        dupes = sorted({p.name for p in value if names.count(p.name.casefold()) > 1})
        if dupes:
            raise ValueError(f"profile names must be unique: {', '.join(dupes)}")
        return value

    @property
    def active(self) -> Profile:
        """The active profile; the first one when the name matches none."""
        return self.profile(self.active_profile) or self.profiles[0]

    def profile(self, name: str) -> Profile | None:
        return next((p for p in self.profiles if p.name == name), None)

    def with_profile(self, profile: Profile, *, replacing: str | None = None) -> AppConfig:
        """A copy with ``profile`` added, or put in place of the one named ``replacing``."""
        target = replacing if replacing is not None else profile.name
        profiles = list(self.profiles)
        index = next((i for i, p in enumerate(profiles) if p.name == target), None)
        if index is None:
            profiles.append(profile)
        else:
            profiles[index] = profile
        active = self.active_profile
        if replacing is not None and active == replacing:
            active = profile.name
        return self.validated(profiles=tuple(profiles), active_profile=active)

    def without_profile(self, name: str) -> AppConfig:
        """A copy without profile ``name`` (the last one cannot go); active moves to the first."""
        profiles = tuple(p for p in self.profiles if p.name != name)
        if not profiles:
            raise ValueError("the last profile cannot be removed")
        active = self.active_profile if self.active_profile != name else profiles[0].name
        return self.validated(profiles=profiles, active_profile=active)

    def validated(self, **changes: Any) -> AppConfig:
        """A validated copy with ``changes`` (``model_copy`` alone would not validate)."""
        data = self.model_dump()
        data.update(changes)
        return AppConfig.model_validate(data)

    def to_toml(self) -> str:
        data = self.model_dump(mode="json", exclude_none=True)
        ns = self.notifications
        # TOML has a native local-time type; write times as such, not as strings
        data["notifications"]["quiet_start"] = ns.quiet_start
        data["notifications"]["quiet_end"] = ns.quiet_end
        header = (
            "# Studio Status settings (edited by the app's Settings window; hand edits are fine).\n"
            "# Tokens are not kept here but in the OS keyring.\n"
        )
        return header + tomli_w.dumps(data)


# -- names for changed(name) --------------------------------------------------------------


def changed_names(old: AppConfig, new: AppConfig) -> list[str]:
    """Dotted names of what differs: ``theme``, ``strip.edge``, ``profiles`` ...

    Section fields are named one by one (a view that only cares about the edge listens for
    ``strip.edge``); profiles are one name since they change together in the window.
    """
    out: list[str] = []
    for name in AppConfig.model_fields:
        a, b = getattr(old, name), getattr(new, name)
        if a == b:
            continue
        if isinstance(a, BaseModel):
            out += [f"{name}.{f}" for f in type(a).model_fields if getattr(a, f) != getattr(b, f)]
        elif isinstance(a, StripSettings):
            out += [
                f"{name}.{f.name}" for f in fields(a) if getattr(a, f.name) != getattr(b, f.name)
            ]
        else:
            out.append(name)
    return out


# -- the file -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadResult:
    """What :meth:`ConfigFile.load` found.

    Attributes:
        config: the settings to use.
        problems: plain sentences for the user, one per bad value (empty when all was fine).
        bad_copy: where the unusable original was kept, if anywhere.
        migrated: True when the old ``strip.json`` was imported.
    """

    config: AppConfig
    problems: tuple[str, ...] = ()
    bad_copy: Path | None = None
    migrated: bool = False


class ConfigFile:
    """Reads and writes :class:`AppConfig` at :attr:`path` (injectable for tests)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else default_config_dir() / CONFIG_NAME

    @property
    def bad_path(self) -> Path:
        return self.path.with_name(self.path.name + ".bad")

    @property
    def legacy_strip_path(self) -> Path:
        return self.path.with_name("strip.json")

    def load(self) -> LoadResult:
        """The settings in the file, repaired where needed (see the module docstring)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return self._first_run()
        except UnicodeDecodeError:
            return self._replace_bad("is not a text file in UTF-8")
        except OSError as exc:
            problem = f"{self.path}: cannot read the settings ({exc}); using defaults"
            log.warning("%s", problem)
            return LoadResult(AppConfig(), (problem,))
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            return self._replace_bad(f"is not valid TOML ({exc})")
        config, problems = repair(raw)
        if not problems:
            return LoadResult(config)
        self._keep_bad(move=False)
        full = (
            *(f"{self.path}: {p}" for p in problems),
            f"the original file is kept as {self.bad_path}",
        )
        for line in full:
            log.warning("%s", line)
        self.save(config)
        return LoadResult(config, full, self.bad_path)

    def _replace_bad(self, why: str) -> LoadResult:
        """A file that cannot be read as settings at all: kept as ``app.toml.bad`` (never
        overwritten unseen), reported, and replaced by the defaults."""
        problem = (
            f"{self.path} {why}; it was kept as {self.bad_path.name} and the defaults are used"
        )
        log.warning("%s", problem)
        self._keep_bad(move=True)
        config = AppConfig()
        self.save(config)
        return LoadResult(config, (problem,), self.bad_path)

    def save(self, config: AppConfig) -> None:
        """Write atomically (temp file + rename) so a crash never leaves half a file."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=self.path.name + ".", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(config.to_toml())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _keep_bad(self, *, move: bool) -> None:
        try:
            if move:
                os.replace(self.path, self.bad_path)
            else:
                shutil.copyfile(self.path, self.bad_path)
        except OSError as exc:
            log.error("could not keep %s as %s: %s", self.path, self.bad_path, exc)

    def _first_run(self) -> LoadResult:
        legacy = self.legacy_strip_path
        if not legacy.exists():
            return LoadResult(AppConfig())
        strip = migrate_strip_json(legacy)
        config = AppConfig(strip=strip)
        self.save(config)
        try:
            os.replace(legacy, legacy.with_name(legacy.name + ".migrated"))
        except OSError as exc:
            log.warning("migrated %s but could not rename it: %s", legacy, exc)
        log.info("migrated strip settings from %s into %s", legacy, self.path)
        return LoadResult(config, migrated=True)


def migrate_strip_json(path: Path) -> StripSettings:
    """The old JSON strip preferences as :class:`StripSettings`; bad values become defaults."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable %s: %s", path, exc)
        return StripSettings()
    if not isinstance(data, dict):
        return StripSettings()
    config, problems = repair({"strip": data})
    for problem in problems:
        log.info("%s: %s", path.name, problem)
    return config.strip


# -- repair: report each bad value and fall back to its default ---------------------------


def repair(raw: dict[str, Any]) -> tuple[AppConfig, list[str]]:
    """Validate ``raw``; each value that fails is dropped (so its default applies) and named.

    Returns the config and one sentence per dropped value, e.g.
    ``strip.edge: Input should be 'top' or 'bottom' (got 'left'); using the default``.
    """
    data: dict[str, Any] = json.loads(json.dumps(raw, default=str))  # a deep, plain copy
    problems = _drop_duplicate_profiles(data)
    for _ in range(_MAX_REPAIRS):
        try:
            return AppConfig.model_validate(data), problems
        except ValidationError as exc:
            errors = exc.errors()
        found: dict[tuple[Any, ...], str] = {}
        for err in errors:
            loc = _removable(data, tuple(err["loc"]))
            if loc is not None and loc not in found:
                found[loc] = _describe(loc, err, _get(data, loc))
        # Only the most specific: a list that is too short *because* its items failed is
        # fixed by dropping those items; deletions run from the back so indices hold.
        locs = [loc for loc in found if not any(o != loc and o[: len(loc)] == loc for o in found)]
        if not locs:
            break
        for loc in sorted(locs, key=_sort_key, reverse=True):
            problems.append(found[loc])
            _delete(data, loc)
        problems.sort(key=lambda p: p.split(":")[0])
    problems.append("the settings could not be repaired; using defaults throughout")
    return AppConfig(), problems


def _sort_key(loc: tuple[Any, ...]) -> tuple[tuple[int, Any], ...]:
    return tuple((0, p) if isinstance(p, int) else (1, str(p)) for p in loc)


def _drop_duplicate_profiles(data: dict[str, Any]) -> list[str]:
    profiles = data.get("profiles")
    if not isinstance(profiles, list):
        return []
    seen: set[str] = set()
    kept: list[Any] = []
    problems: list[str] = []
    for i, item in enumerate(profiles):
        name = item.get("name") if isinstance(item, dict) else None
        key = name.strip().casefold() if isinstance(name, str) else None
        if key is not None and key in seen:
            problems.append(f"profiles[{i}]: a second profile named {name!r}; it was dropped")
            continue
        if key is not None:
            seen.add(key)
        kept.append(item)
    data["profiles"] = kept
    return problems


def _describe(loc: tuple[str | int, ...], err: Any, value: object) -> str:
    name = _dotted(loc)
    if err["type"] == "extra_forbidden":
        return f"{name}: unknown setting, ignored"
    if len(loc) >= 2 and loc[0] == "profiles" and isinstance(loc[1], int) and len(loc) == 2:
        return f"{name}: {err['msg']}; the profile was dropped"
    msg = re.sub(r"^Value error, ", "", str(err["msg"]))
    return f"{name}: {msg} (got {value!r}); using the default"


def _dotted(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _removable(data: Any, loc: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """The longest prefix of ``loc`` that exists in ``data`` and can be deleted.

    pydantic adds type tags to locations (``function-after[...]``); they are skipped. A bad
    field inside a profile drops the field when it has a default, else the whole profile.
    """
    path: list[Any] = []
    node = data
    for part in loc:
        if (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        ):
            path.append(part)
            node = node[part]
        elif isinstance(node, list | dict):
            break
    if not path:
        return None
    if len(path) >= 3 and path[0] == "profiles" and path[2] == "name":
        return tuple(path[:2])  # a profile without a usable name is no profile
    if len(path) > 2 and path[0] == "profiles":
        return tuple(path[:3])
    return tuple(path)


def _get(data: Any, loc: tuple[Any, ...]) -> Any:
    for part in loc:
        data = data[part]
    return data


def _delete(data: Any, loc: tuple[Any, ...]) -> None:
    parent = _get(data, loc[:-1])
    del parent[loc[-1]]


# -- docs ---------------------------------------------------------------------------------


def reference() -> str:
    """Every option with its type, default and description, as Markdown (docs/settings.md)."""
    lines = [
        "# App settings (`app.toml`)",
        "",
        "Generated from `studio_status.appconfig` (`studio-status config --reference`).",
        "",
        "| setting | type | default | description |",
        "| --- | --- | --- | --- |",
    ]
    defaults = AppConfig()

    def row(name: str, info: Any, default: object) -> None:
        kind = _type_name(info.annotation)
        shown = _show(default)
        lines.append(f"| `{name}` | {kind} | {shown} | {info.description or ''} |")

    for name, info in AppConfig.model_fields.items():
        value = getattr(defaults, name)
        if isinstance(value, BaseModel):
            for sub, subinfo in type(value).model_fields.items():
                row(f"{name}.{sub}", subinfo, getattr(value, sub))
        elif isinstance(value, StripSettings):
            strip_fields: dict[str, Any] = getattr(StripSettings, "__pydantic_fields__", {})
            for sub, subinfo in strip_fields.items():
                row(f"{name}.{sub}", subinfo, getattr(value, sub))
        elif name == "profiles":
            row(name, info, "one profile, `Local`")
            for sub, subinfo in Profile.model_fields.items():
                row(f"profiles[].{sub}", subinfo, None if sub == "name" else subinfo.default)
        else:
            row(name, info, value)
    return "\n".join(lines) + "\n"


def _type_name(annotation: object) -> str:
    text = getattr(annotation, "__name__", None) if isinstance(annotation, type) else None
    text = text or str(annotation)
    text = re.sub(r"\b(?:[a-z_]+\.)+([A-Za-z_]+)", r"\1", text)
    text = re.sub(r"tuple\[(\w+), \.\.\.\]", r"list of \1", text)
    return text.replace(" | None", " (optional)").replace(" | ", " or ")


def _show(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, str) and not isinstance(value, StrEnum):
        return value if value.startswith("one ") else f"`{value!r}`".replace("'", '"')
    if isinstance(value, StrEnum):
        return f'`"{value.value}"`'
    if isinstance(value, tuple):
        return "`[" + ", ".join(f'"{getattr(v, "value", v)}"' for v in value) + "]`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value.isoformat() if isinstance(value, time) else value}`"
