"""Apprise channels against real loopback receivers: Apprise's JSON and form targets to a
local HTTP server, email to a local SMTP server (aiosmtpd). Content, secrets from the
environment (never stored), retries after the receiver was down, exactly once across a
restart, and the admin's test notification through the API."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import email
import json
import sqlite3
from collections.abc import AsyncIterator
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from studio_status.hub.alerts import AlertManager
from studio_status.hub.channels import display_name, resolve
from studio_status.hub.config import ConfigError, ServiceConfig, load_config
from studio_status.hub.health_settings import HealthSettings, NotifySettings
from studio_status.hub.state import HealthState
from studio_status.hub.store.sqlite import SqliteStore
from studio_status.protocol import HealthStatus, Role
from tests.hub.checks.servers import LoopbackServer, Request, Response
from tests.hub.fakeclock import FakeClock
from tests.hubrunner import http_service, run_hub

USER, SECRET = "hub", "s3cret/with@odd:chars"


class HttpReceiver:
    """Apprise's ``json://`` and ``form://`` targets land here."""

    def __init__(self) -> None:
        self.answers: list[int] = []  # status codes to answer with, then 200
        self.json: list[dict[str, Any]] = []
        self.form: list[dict[str, str]] = []
        self.auth: list[str] = []
        self.server = LoopbackServer(self.handle)

    async def handle(self, request: Request) -> Response:
        status = self.answers.pop(0) if self.answers else 200
        if status == 200:
            self.auth.append(request.headers.get("authorization", ""))
            if request.path.startswith("/json"):
                self.json.append(json.loads(request.body))
            else:
                form = parse_qs(request.body.decode())
                self.form.append({k: v[0] for k, v in form.items()})
        return Response(status, b"ok")


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.server: asyncio.Server | None = None
        self.port = 0

    async def handle_DATA(self, _server: SMTP, _session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(
            lambda: SMTP(self, hostname="127.0.0.1"), "127.0.0.1", self.port
        )
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None


def text_of(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode()
    raise AssertionError("no text part")


@pytest.fixture
async def http_receiver() -> AsyncIterator[HttpReceiver]:
    r = HttpReceiver()
    await r.server.start()
    yield r
    await r.server.close()


@pytest.fixture
async def mailbox() -> AsyncIterator[Mailbox]:
    m = Mailbox()
    await m.start()
    yield m
    await m.stop()


@pytest.fixture
def secrets_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOK_USER", USER)
    monkeypatch.setenv("HOOK_PASSWORD", SECRET)


def channel_urls(http: HttpReceiver, mail: Mailbox) -> list[str]:
    port = http.server.port
    return [
        f"json://${{env:HOOK_USER}}:${{HOOK_PASSWORD}}@127.0.0.1:{port}/json",
        f"form://127.0.0.1:{port}/form",
        f"mailto://127.0.0.1:{mail.port}?from=hub@studio.example&to=ops@studio.example",
    ]


class Rig:
    def __init__(self, store: SqliteStore, urls: list[str], **alerts: Any) -> None:
        self.clock = FakeClock()
        self.store = store
        self.health = HealthSettings.model_validate(
            {
                "alerts": {"escalation_delay_seconds": 60, **alerts},
                "notify": {"services": {"api": urls}},
            }
        )
        self.state = HealthState(
            [
                ServiceConfig.model_validate(
                    {"name": "api", "check": {"kind": "tcp", "host": "127.0.0.1", "port": 1}}
                )
            ]
        )
        self.mgr = self.make()

    def make(self) -> AlertManager:
        return AlertManager(
            self.store, self.state, self.health, clock=self.clock, publish=lambda *_: None
        )

    async def restart(self) -> None:
        await self.mgr.stop()
        self.mgr = self.make()
        await self.mgr.start()

    def see(self, status: HealthStatus, message: str) -> None:
        self.mgr.observe("api", status, message, self.clock())

    async def step(self, seconds: float = 0) -> None:
        self.clock.advance(seconds)
        self.mgr.tick()
        await self.mgr.flush()
        await self.mgr.deliver_due()


@contextlib.asynccontextmanager
async def rig_for(tmp_path: Path, urls: list[str]) -> AsyncIterator[Rig]:
    store = SqliteStore(tmp_path / "hub.sqlite3")
    await store.open()
    rig = Rig(store, urls)
    await rig.mgr.start()
    try:
        yield rig
    finally:
        await rig.mgr.stop()
        await store.close()


def stored_outbox(db: Path) -> str:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return json.dumps(conn.execute("SELECT url, payload_json FROM alert_outbox").fetchall())


@pytest.mark.usefixtures("secrets_in_env")
async def test_escalation_and_resolution_reach_every_channel(
    tmp_path: Path, http_receiver: HttpReceiver, mailbox: Mailbox
) -> None:
    async with rig_for(tmp_path, channel_urls(http_receiver, mailbox)) as rig:
        rig.see(HealthStatus.DOWN, "connection refused")
        await rig.step(59)
        assert http_receiver.json == [] and mailbox.messages == []  # not escalated yet
        await rig.step(1)
        [sent] = http_receiver.json
        assert sent["type"] == "failure"
        assert sent["title"] == "api is down"
        assert "api is down: connection refused" in sent["message"]
        expected = "Basic " + base64.b64encode(f"{USER}:{SECRET}".encode()).decode()
        assert http_receiver.auth[0] == expected  # the secret came from the environment
        [form] = http_receiver.form
        assert form["title"] == "api is down" and form["type"] == "failure"
        [mail] = mailbox.messages
        assert mail["Subject"] == "api is down" and mail["To"] == "ops@studio.example"
        assert "connection refused" in text_of(mail)

        rig.see(HealthStatus.HEALTHY, "ok")
        await rig.step(1)
        assert [m["type"] for m in http_receiver.json] == ["failure", "success"]
        assert "api recovered" in http_receiver.json[1]["message"]
        assert [m["Subject"] for m in mailbox.messages] == ["api is down", "api recovered"]
        rows = await rig.mgr.store.outbox()
        assert len(rows) == 6 and all(r.sent_at is not None for r in rows)
    assert SECRET not in stored_outbox(tmp_path / "hub.sqlite3")
    assert "${HOOK_PASSWORD}" in stored_outbox(tmp_path / "hub.sqlite3")


@pytest.mark.usefixtures("secrets_in_env")
async def test_retries_after_the_receiver_was_down_and_once_across_restarts(
    tmp_path: Path, http_receiver: HttpReceiver, mailbox: Mailbox
) -> None:
    urls = channel_urls(http_receiver, mailbox)
    await mailbox.stop()  # the mail server is down when the notice goes out
    http_receiver.answers = [503]  # and the JSON receiver fails once
    async with rig_for(tmp_path, [urls[0], urls[2]]) as rig:
        rig.see(HealthStatus.DOWN, "disk full")
        await rig.step(60)
        assert http_receiver.json == [] and mailbox.messages == []
        rows = {display_name(r.url): r for r in await rig.mgr.store.outbox()}
        assert rows[f"json://127.0.0.1:{http_receiver.server.port}"].attempts == 1
        mail_row = rows[f"mailto://127.0.0.1:{mailbox.port}"]
        assert mail_row.attempts == 1 and mail_row.last_error  # why, in words

        await rig.restart()  # the pending rows are on disk, not in memory
        await mailbox.start()  # the same port: the URL still points at it
        for _ in range(12):  # long enough for every backoff, with jitter
            await rig.step(60)
        assert len(http_receiver.json) == 1 and len(mailbox.messages) == 1
        assert "disk full" in http_receiver.json[0]["message"]

        await rig.restart()  # delivered rows are never sent again
        for _ in range(5):
            await rig.step(600)
        assert len(http_receiver.json) == 1 and len(mailbox.messages) == 1


async def test_a_missing_secret_is_named_and_retried(
    tmp_path: Path, http_receiver: HttpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOOK_PASSWORD", raising=False)
    url = f"json://hub:${{HOOK_PASSWORD}}@127.0.0.1:{http_receiver.server.port}/json"
    async with rig_for(tmp_path, [url]) as rig:
        rig.see(HealthStatus.DOWN, "refused")
        await rig.step(60)
        [row] = await rig.mgr.store.outbox()
        assert row.sent_at is None
        assert (
            row.last_error
            == "the channel's secret is missing: set the environment variable HOOK_PASSWORD"
        )
        monkeypatch.setenv("HOOK_PASSWORD", "now-set")
        for _ in range(5):
            await rig.step(60)
        assert len(http_receiver.json) == 1


def test_keyring_secrets_and_config_errors(tmp_path: Path) -> None:
    url, secrets = resolve(
        "ntfy://${keyring:ntfy}@ntfy.example/alerts", lambda service, user: f"{service}:{user}"
    )
    assert url == "ntfy://studio-status%3Antfy@ntfy.example/alerts"
    assert secrets == ["studio-status:ntfy"]
    assert display_name("mailto://user:pw@mail.example:587?to=a@b") == "mailto://mail.example:587"
    config = tmp_path / "hub.toml"
    config.write_text('[health.notify]\nurls = ["json://a", "plain-secret-token"]\n')
    with pytest.raises(ConfigError, match="channel 2 is not an Apprise URL") as err:
        load_config(config)
    assert "plain-secret-token" not in str(err.value)  # the file's text is not echoed


@pytest.mark.usefixtures("secrets_in_env")
async def test_test_notification_api(
    tmp_path: Path, http_receiver: HttpReceiver, mailbox: Mailbox
) -> None:
    urls = channel_urls(http_receiver, mailbox)
    health = HealthSettings(notify=NotifySettings(services={"api": urls[:2]}, urls=[urls[2]]))
    async with run_hub(
        tmp_path, [http_service("api", http_receiver.server.url)], health=health
    ) as h:
        creator = await h.token(Role.CREATOR)
        async with h.http(creator) as http:
            refused = await http.post("/admin/health/api/test-notification")
            assert refused.status_code == 403
        async with h.http(h.admin_token) as http:
            assert (await http.post("/admin/health/nope/test-notification")).status_code == 404
            resp = await http.post("/admin/health/api/test-notification")
            assert resp.status_code == 200, resp.text
            data = resp.json()["data"]
        port = http_receiver.server.port
        assert data == {
            "service": "api",
            "channels": [
                {"channel": f"mailto://127.0.0.1:{mailbox.port}", "sent": True, "error": None},
                {"channel": f"json://127.0.0.1:{port}", "sent": True, "error": None},
                {"channel": f"form://127.0.0.1:{port}", "sent": True, "error": None},
            ],
        }
        assert http_receiver.json[0]["type"] == "info"
        assert "Test notification for api" in http_receiver.json[0]["message"]
        assert mailbox.messages[0]["Subject"] == "Studio Status: test for api"
