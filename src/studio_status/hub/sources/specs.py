"""Config schema of the hub's job and stability sources (the ``[sources]`` table).

Example::

    [[sources.comfyui]]
    name = "gpu-box-1"
    url = "http://10.0.0.5:8188"

    [[sources.postgres]]
    name = "platform"
    dsn_env = "PLATFORM_DSN"
    channels = ["system_stability", "import_job_progress"]

Kept apart from the sources themselves so that reading a config file imports no network
code, like :mod:`studio_status.hub.checks.specs` for the checkers.
"""

from __future__ import annotations

import os
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator

__all__ = ["ComfyUISourceSpec", "PgChannelSpec", "PgNotifySpec", "SourcesConfig"]

_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_CHANNEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _check_name(value: str) -> str:
    if not _NAME.match(value):
        raise ValueError("lower-case letters, digits, '_', '-' or '.', at most 64")
    return value


class ComfyUISourceSpec(_Spec):
    """One ComfyUI instance whose queue becomes hub jobs (``comfyui:<name>:<prompt_id>``)."""

    name: str
    url: HttpUrl
    poll_seconds: float = Field(default=5.0, gt=0, le=3600)
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # Finished prompts read per poll; prompts that finish between two polls beyond this
    # many are missed (ComfyUI keeps its own history; the hub only needs the recent ones).
    history_items: int = Field(default=50, ge=1, le=1000)
    reconnect_initial_seconds: float = Field(default=0.5, gt=0, le=60)
    reconnect_max_seconds: float = Field(default=30.0, gt=0, le=3600)
    project: str | None = Field(default=None, max_length=200)

    _valid_name = field_validator("name")(_check_name)

    @property
    def base_url(self) -> str:
        return str(self.url).rstrip("/")


class PgChannelSpec(_Spec):
    """One ``LISTEN`` channel and what its payloads mean."""

    channel: str
    kind: Literal["stability", "job"]

    @field_validator("channel")
    @classmethod
    def _valid_channel(cls, value: str) -> str:
        if not _CHANNEL.match(value):
            raise ValueError("a plain SQL identifier (letters, digits, '_'), at most 63")
        return value


_DEFAULT_KINDS: dict[str, Literal["stability", "job"]] = {"system_stability": "stability"}


class PgNotifySpec(_Spec):
    """A PostgreSQL database whose ``pg_notify`` payloads become stability and job events.

    ``channels`` may name channels (``system_stability`` is read as stability, any other as
    job progress) or give ``{channel, kind}`` tables. ``stability_query`` is run after each
    (re)connect so the hub knows the state before the first notification arrives.
    """

    name: str
    dsn: str | None = None
    dsn_env: str | None = None
    channels: list[PgChannelSpec | str] = Field(min_length=1)
    stability_query: str | None = None
    reconnect_initial_seconds: float = Field(default=0.5, gt=0, le=60)
    reconnect_max_seconds: float = Field(default=30.0, gt=0, le=3600)
    keepalive_seconds: float = Field(default=30.0, gt=0, le=3600)

    _valid_name = field_validator("name")(_check_name)

    @model_validator(mode="after")
    def _one_dsn(self) -> PgNotifySpec:
        if (self.dsn is None) == (self.dsn_env is None):
            raise ValueError("give exactly one of dsn or dsn_env")
        return self

    def resolved_channels(self) -> list[PgChannelSpec]:
        return [
            c
            if isinstance(c, PgChannelSpec)
            else PgChannelSpec(channel=c, kind=_DEFAULT_KINDS.get(c, "job"))
            for c in self.channels
        ]

    def resolved_dsn(self) -> str:
        """The DSN, read from the environment at connect time when ``dsn_env`` is used."""
        if self.dsn is not None:
            return self.dsn
        assert self.dsn_env is not None
        value = os.environ.get(self.dsn_env)
        if not value:
            raise LookupError(f"environment variable {self.dsn_env} is not set")
        return value


class SourcesConfig(_Spec):
    comfyui: list[ComfyUISourceSpec] = Field(default_factory=list)
    postgres: list[PgNotifySpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_names(self) -> SourcesConfig:
        for group in (self.comfyui, self.postgres):
            names = [s.name for s in group]
            dupes = {n for n in names if names.count(n) > 1}
            if dupes:
                raise ValueError(f"duplicate source name {sorted(dupes)[0]!r}")
        return self
