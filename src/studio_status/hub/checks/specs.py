"""Declarative check specs: the ``[services.check]`` tables of the hub's TOML config.

One pydantic model per checker kind, discriminated by ``kind``. Defaults and limits live
here, in one place, so the config file, its validation errors and the docs agree.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

__all__ = [
    "CheckSpec",
    "ComfyUISpec",
    "CommandSpec",
    "DiskSpec",
    "EventBusSpec",
    "HttpSpec",
    "PostgresSpec",
    "TcpSpec",
    "WorkersSpec",
]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HttpSpec(_Spec):
    """HTTP(S) GET: status code, optional body match, slow → degraded."""

    kind: Literal["http"] = "http"
    url: HttpUrl
    method: Literal["GET", "HEAD"] = "GET"
    expect_status: list[int] = Field(default_factory=lambda: [200])
    body_contains: str | None = None
    degraded_ms: int = Field(default=1000, gt=0)
    verify_tls: bool = True
    headers: dict[str, str] = Field(default_factory=dict)


class TcpSpec(_Spec):
    kind: Literal["tcp"] = "tcp"
    host: str
    port: int = Field(gt=0, lt=65536)
    degraded_ms: int = Field(default=500, gt=0)


class PostgresSpec(_Spec):
    """Connect, run a real query and read the server version."""

    kind: Literal["postgres"] = "postgres"
    dsn: str
    query: str = "SELECT 1"
    degraded_ms: int = Field(default=500, gt=0)


class DiskSpec(_Spec):
    kind: Literal["disk"] = "disk"
    path: str = "/"
    warning_percent: float = Field(default=80.0, gt=0, le=100)
    critical_percent: float = Field(default=90.0, gt=0, le=100)
    write_test: bool = True


class CommandSpec(_Spec):
    """A Nagios-style plugin: argv list (never a shell); exit 0/1/2/3."""

    kind: Literal["command"] = "command"
    argv: list[str] = Field(min_length=1)


class ComfyUISpec(_Spec):
    """One or more ComfyUI instances probed through ``GET /system_stats``."""

    kind: Literal["comfyui"] = "comfyui"
    urls: list[HttpUrl] = Field(min_length=1)
    degraded_ms: int = Field(default=1500, gt=0)
    vram_free_min_mb: int = Field(default=512, ge=0)


class EventBusSpec(_Spec):
    """Publish a probe on the hub's own event bus and wait for it to come back."""

    kind: Literal["eventbus"] = "eventbus"
    degraded_ms: int = Field(default=100, gt=0)


class WorkersSpec(_Spec):
    """A list of worker health endpoints; status by the share online."""

    kind: Literal["workers"] = "workers"
    urls: list[HttpUrl] = Field(min_length=1)
    degraded_below: float = Field(default=1.0, ge=0, le=1)
    down_below: float = Field(default=0.5, ge=0, le=1)


CheckSpec = Annotated[
    HttpSpec
    | TcpSpec
    | PostgresSpec
    | DiskSpec
    | CommandSpec
    | ComfyUISpec
    | EventBusSpec
    | WorkersSpec,
    Field(discriminator="kind"),
]
