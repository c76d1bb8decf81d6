"""The hub's declarative config: one schema for the TOML file, its defaults and its errors.

Example::

    [hub]
    host = "127.0.0.1"
    port = 8765
    heartbeat_seconds = 15

    [[services]]
    name = "comfyui"
    label = "ComfyUI"
    interval_seconds = 30
    [services.check]
    kind = "comfyui"
    urls = ["http://127.0.0.1:8188"]

With no file, :func:`default_config` watches this machine for real: the hub's own HTTP
endpoint, its event bus, and the disk holding its data.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .checks.specs import CheckSpec, DiskSpec, EventBusSpec, HttpSpec
from .health_settings import HealthSettings
from .sources.specs import SourcesConfig
from .store.postgres import is_postgres_url

__all__ = [
    "CloudSettings",
    "ConfigError",
    "HubConfig",
    "HubSettings",
    "JobsSettings",
    "ServiceConfig",
    "SystemsSettings",
    "default_config",
    "default_config_path",
    "default_data_dir",
    "load_config",
]

_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the file and the field."""


def default_config_path() -> Path:
    return Path(platformdirs.user_config_dir("studio-status")) / "hub.toml"


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("studio-status"))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServiceConfig(_Model):
    name: str
    label: str | None = None
    interval_seconds: float = Field(default=30.0, ge=0.05, le=86400)
    timeout_seconds: float = Field(default=10.0, gt=0, le=600)
    footer: bool = True
    check: CheckSpec
    #: argv run by the "restart" quick action (never through a shell)
    restart: list[str] | None = Field(default=None, min_length=1)
    #: the file the "logs" quick action tails
    log_file: Path | None = None

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("lower-case letters, digits, '_', '-' or '.', at most 64")
        return value

    @model_validator(mode="after")
    def _timeout_fits(self) -> ServiceConfig:
        if self.timeout_seconds > self.interval_seconds * 4:
            raise ValueError("timeout_seconds may be at most 4x interval_seconds")
        return self


class HubSettings(_Model):
    host: str = "127.0.0.1"
    port: int = Field(default=8765, ge=0, lt=65536)
    #: a SQLite file, or a PostgreSQL URL (``postgresql://user:password@host/db``), the one
    #: database several hub replicas share
    database: Path | str | None = None
    heartbeat_seconds: float = Field(default=15.0, gt=0, le=300)
    retention_days: float = Field(default=7.0, gt=0)
    event_log_size: int = Field(default=10_000, ge=100)
    history_limit: int = Field(default=500, ge=1, le=100_000)
    #: largest request body taken (413 beyond), and writes to /api/ per token (429 beyond)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    push_rate_per_second: float = Field(default=50.0, gt=0)
    push_burst: int = Field(default=500, ge=1)
    #: checks in flight at once; the rest wait their turn (their timeout starts with it),
    #: so a thousand services starting together cannot swamp the hub or its HTTP pool
    max_concurrent_checks: int = Field(default=64, ge=1, le=1000)
    #: serve HTTPS/WSS with this certificate chain and key (PEM); both or neither
    tls_certfile: Path | None = None
    tls_keyfile: Path | None = None

    @field_validator("database")
    @classmethod
    def _database(cls, value: Path | str | None) -> Path | str | None:
        if isinstance(value, str) and not is_postgres_url(value):
            return Path(value)
        return value

    @model_validator(mode="after")
    def _tls_pair(self) -> HubSettings:
        if (self.tls_certfile is None) != (self.tls_keyfile is None):
            raise ValueError("tls_certfile and tls_keyfile go together")
        return self


class CloudSettings(_Model):
    """``[cloud]``: where pods come from and the budget (USD). ``provider = "none"`` still
    takes pushed pods. The RunPod key comes from the OS keyring (service ``studio-status``,
    user ``runpod``) or ``RUNPOD_API_KEY``, never from this file.
    """

    provider: Literal["none", "runpod"] = "none"
    api: Literal["graphql", "rest"] = "graphql"
    poll_seconds: float = Field(default=30.0, ge=1, le=3600)
    max_backoff_seconds: float = Field(default=600.0, ge=1, le=86400)
    request_timeout_seconds: float = Field(default=15.0, gt=0, le=120)
    budget_per_hour: float | None = Field(default=None, gt=0)
    budget_per_month: float | None = Field(default=None, gt=0)
    approaching_percent: float = Field(default=80.0, gt=0, lt=100)
    push_stale_seconds: float = Field(default=600.0, ge=10)
    graphql_url: str = "https://api.runpod.io/graphql"
    rest_url: str = "https://rest.runpod.io/v1"

    @model_validator(mode="before")
    @classmethod
    def _no_secrets(cls, data: Any) -> Any:
        if isinstance(data, dict) and any("key" in str(k).lower() for k in data):
            raise ValueError(
                "API keys never go in the config file: store the RunPod key with"
                " `keyring set studio-status runpod` or set RUNPOD_API_KEY"
            )
        return data


class MetricsSettings(_Model):
    """``[metrics]``: ``GET /metrics`` in the Prometheus text format (``docs/metrics.md``).

    An admin token always scrapes. A dedicated scrape token, which opens nothing else, is
    read from the environment variable ``token_env`` or from ``token_file`` (one line; the
    scraper side is Prometheus' ``credentials_file``), never from this file. Without a token
    the endpoint is closed, except to the hub's own machine when ``loopback_open`` is set.
    """

    enabled: bool = True
    token_env: str = "STUDIO_STATUS_METRICS_TOKEN"
    token_file: Path | None = None
    loopback_open: bool = False

    def scrape_token(self) -> str | None:
        """The dedicated token, or None; a configured file that cannot be read is an error
        the hub reports at start, not a silently closed endpoint."""
        if self.token_file is not None:
            try:
                text = self.token_file.expanduser().read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(f"metrics token_file: {exc.strerror}: {self.token_file}") from exc
            return text or None
        return os.environ.get(self.token_env) or None


class SystemsSettings(_Model):
    """``[systems]``: pushed external-system snapshots (seed 004)."""

    stale_after_seconds: float = Field(default=600.0, ge=10)
    retention_days: float = Field(default=7.0, gt=0)


class JobsSettings(_Model):
    """``[jobs]``: how long an active job lives without word from its source.

    A job whose source says nothing of it (no event, no ``alive``) for ``stall_seconds`` is
    shown stalled; ``lost_seconds`` after that it ends as ``lost``. Queue moves are sent to
    clients at most once per ``positions_coalesce_seconds``.
    """

    stall_seconds: float = Field(default=300.0, gt=0, le=86400)
    lost_seconds: float = Field(default=900.0, ge=0, le=7 * 86400)
    sweep_seconds: float = Field(default=5.0, gt=0, le=3600)
    positions_coalesce_seconds: float = Field(default=0.25, ge=0, le=60)


class HubConfig(_Model):
    hub: HubSettings = Field(default_factory=HubSettings)
    jobs: JobsSettings = Field(default_factory=JobsSettings)
    services: list[ServiceConfig] = Field(default_factory=list)
    cloud: CloudSettings = Field(default_factory=CloudSettings)
    systems: SystemsSettings = Field(default_factory=SystemsSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    health: HealthSettings = Field(default_factory=HealthSettings)
    sources: SourcesConfig = Field(default_factory=SourcesConfig)

    @model_validator(mode="after")
    def _unique_names(self) -> HubConfig:
        seen: set[str] = set()
        for i, svc in enumerate(self.services):
            if svc.name in seen:
                raise ValueError(f"services.{i}.name: duplicate service name {svc.name!r}")
            seen.add(svc.name)
        return self

    @model_validator(mode="after")
    def _known_services(self) -> HubConfig:
        """Startup checks, maintenance windows and the connectivity service name services
        that exist (the default ones when ``services`` is empty): a typo would otherwise
        wait forever, hold nothing, or never apply."""
        names = {s.name for s in self.services} or set(DEFAULT_SERVICE_NAMES)
        known = ", ".join(sorted(names))
        refs: list[tuple[str, str | None]] = [
            ("health.connectivity_service", self.health.connectivity_service)
        ]
        refs += [
            (f"health.startup.{i}.service", getattr(check, "service", None))
            for i, check in enumerate(self.health.startup or [])
        ]
        refs += [
            (f"health.maintenance.{i}.service", window.service)
            for i, window in enumerate(self.health.maintenance)
        ]
        for field, name in refs:
            if name is not None and name not in names:
                raise ValueError(f"{field}: no service named {name!r} (services: {known})")
        return self

    def database(self) -> Path | str:
        """The SQLite file, or the PostgreSQL URL."""
        return self.hub.database or default_data_dir() / "hub.sqlite3"

    def database_path(self) -> Path:
        """The SQLite file; with PostgreSQL, where it would be (its folder is the data dir)."""
        db = self.database()
        return db if isinstance(db, Path) else default_data_dir() / "hub.sqlite3"


#: the services :func:`default_config` watches
DEFAULT_SERVICE_NAMES = ("hub", "events", "disk")


def default_config(self_url: str, data_dir: Path, *, interval: float = 30.0) -> list[ServiceConfig]:
    """Services watched when no config file exists: real checks of this machine."""
    return [
        ServiceConfig(
            name="hub",
            label="Hub",
            interval_seconds=interval,
            timeout_seconds=5,
            # answering its own /health takes a few ms; seconds mean a wedged event loop
            check=HttpSpec.model_validate({"url": f"{self_url}/health", "degraded_ms": 2000}),
        ),
        ServiceConfig(
            name="events",
            label="Events",
            interval_seconds=interval,
            timeout_seconds=5,
            check=EventBusSpec(),
        ),
        ServiceConfig(
            name="disk",
            label="Disk",
            interval_seconds=interval,
            timeout_seconds=5,
            check=DiskSpec(path=str(data_dir)),
        ),
    ]


def load_config(path: Path | None) -> tuple[HubConfig, bool]:
    """Read the TOML config; returns it and whether a file was found.

    A missing file at the default path is fine (defaults apply); a missing file that was
    asked for by flag, bad TOML or an invalid field raise :class:`ConfigError`.
    """
    explicit = path is not None
    path = path or default_config_path()
    if not path.exists():
        if explicit:
            raise ConfigError(f"{path}: no such config file")
        return HubConfig(), False
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    try:
        return HubConfig.model_validate(raw), True
    except ValidationError as exc:
        raise ConfigError(f"{path}: {describe(exc)}") from None


def describe(exc: ValidationError) -> str:
    """The first few errors as ``field: cause``; a rule across fields names its own."""
    problems = []
    for e in exc.errors()[:5]:
        loc = ".".join(str(p) for p in e["loc"])
        msg = e["msg"].removeprefix("Value error, ")
        problems.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(problems)
