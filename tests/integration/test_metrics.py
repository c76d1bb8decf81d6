"""``GET /metrics`` scraped from a real hub and parsed with prometheus-client's own parser;
the figures agree with the REST answers taken at the same moment (no check runs between)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from studio_status.hub.config import ConfigError, MetricsSettings
from studio_status.protocol import Role
from tests.hub.checks.servers import LoopbackServer, free_port
from tests.hubrunner import RunningHub, http_service, recv_until, run_hub

DOCS = Path(__file__).resolve().parents[2] / "docs"

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Samples:
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


async def scrape(h: RunningHub, token: str | None) -> httpx.Response:
    async with h.http(token) as http:
        return await http.get("/metrics")


async def test_scrape_agrees_with_rest(tmp_path: Path) -> None:
    target = await LoopbackServer().start()
    dead = f"http://127.0.0.1:{free_port()}/"
    try:
        services = [http_service("api", target.url), http_service("db", dead)]
        async with run_hub(tmp_path, services) as h:
            await h.hub.recheck("api")
            await h.hub.recheck("db")
            await h.hub.writer.flush()
            creator = await h.token(Role.CREATOR)
            async with (
                h.http(h.admin_token) as http,
                h.socket(h.admin_token, ["health"]) as admin_ws,
                h.socket(creator) as creator_ws,
            ):
                first = await recv_until(admin_ws, "snapshot")
                await recv_until(creator_ws, "snapshot")
                for event_id, kind, job in [
                    ("e1", "started", "j1"),
                    ("e2", "created", "j2"),
                    ("e3", "started", "j3"),
                    ("e4", "failed", "j3"),
                ]:
                    pushed = await http.post(
                        "/api/v1/jobs/events",
                        json={"event_id": event_id, "kind": kind, "job_id": job},
                    )
                    assert pushed.status_code == 200, pushed.text
                pods = await http.post(
                    "/api/v1/cloud/pods",
                    json={
                        "provider": "lambda",
                        "pods": [
                            {"id": "a", "status": "running", "cost_per_hour": 1.24},
                            {"id": "b", "status": "running", "cost_per_hour_cents": 50},
                        ],
                    },
                )
                assert pods.status_code == 200, pods.text
                # a resume from the snapshot's seq: one replay request, answered by a resume
                async with h.socket(
                    h.admin_token, last_seq=first["seq"], hub_id=first["hub_id"]
                ) as again:
                    assert (await recv_until(again, "resumed"))["seq"] >= first["seq"]

                    resp = await http.get("/metrics")
                    overview = (await http.get("/admin/health")).json()["data"]
                    uptime = (
                        await http.get(
                            "/admin/health/uptime", params={"period": "24h", "timeline": "false"}
                        )
                    ).json()["data"]
                    footer = (await http.get("/api/v1/status/footer")).json()["data"]

        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/plain; version=")
        m = parse(resp.text)
        codes = {"healthy": 0, "degraded": 1, "down": 2, "unknown": 3}
        for svc in overview["services"]:
            name, status = svc["name"], svc["status"]
            assert value(m, "studio_status_service_status", service=name) == codes[status]
            for state in codes:
                expected = 1.0 if state == status else 0.0
                assert value(m, "studio_status_service_state", service=name, state=state) == (
                    expected
                )
            if svc["latency_ms"] is not None:
                assert value(
                    m, "studio_status_service_latency_seconds", service=name
                ) == pytest.approx(svc["latency_ms"] / 1000)
            assert value(m, "studio_status_service_checks_total", service=name) >= 1
        statuses = {s["name"]: s["status"] for s in overview["services"]}
        assert statuses == {"api": "healthy", "db": "down", "cloud": "healthy"}
        assert value(m, "studio_status_service_checks_failed_total", service="api") == 0
        assert value(m, "studio_status_service_checks_failed_total", service="db") >= 1
        for entry in uptime["services"]:
            for window in ("24h", "7d", "30d"):
                figure = entry[f"uptime_{window}"]
                key = ("studio_status_service_uptime_ratio", (("service", entry["service"]),
                       ("window", window)))  # fmt: skip
                if figure is None:
                    assert key not in m
                else:
                    assert m[key] == pytest.approx(figure / 100)
        assert value(m, "studio_status_service_uptime_ratio", service="api", window="24h") == 1.0

        jobs = footer["jobs"]
        assert (jobs["running"], jobs["queued"]) == (1, 1)
        assert value(m, "studio_status_jobs", state="running") == jobs["running"]
        assert value(m, "studio_status_jobs", state="queued") == jobs["queued"]
        assert value(m, "studio_status_jobs_finished_total", result="failed") == 1
        cloud = footer["cloud_gpu"]
        assert value(m, "studio_status_cloud_pods") == cloud["active_pods"] == 2
        assert value(m, "studio_status_cloud_cost_per_hour") == pytest.approx(
            cloud["cost_per_hour_cents"] / 100
        )
        assert value(m, "studio_status_cloud_budget_state", state=cloud["budget_status"]) == 1

        # three sockets open at the scrape: two admins, one creator
        assert value(m, "studio_status_sockets", role="admin") == 2
        assert value(m, "studio_status_sockets", role="creator") == 1
        assert value(m, "studio_status_sockets", role="reviewer") == 0
        assert value(m, "studio_status_replay_requests_total", outcome="resumed") == 1
        assert value(m, "studio_status_events_published_total") >= 6  # 2 health, 4 jobs, pods
        assert value(m, "studio_status_writer_backlog") >= 0
        assert value(m, "studio_status_storage_errors_total") == 0
        assert value(m, "studio_status_storage_failing") == 0
        assert any(name == "process_resident_memory_bytes" for name, _ in m)
        assert any(name.startswith("python_gc_") for name, _ in m)

        # every metric the example Grafana dashboard charts is one the hub serves
        dashboard = json.loads((DOCS / "grafana" / "studio-status-hub.json").read_text())
        exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
        charted = {n for e in exprs for n in re.findall(r"\b(?:studio_status|process)_\w+", e)}
        served = {name for name, _ in m}
        assert len(charted) >= 10 and charted <= served, charted - served
    finally:
        await target.close()


async def test_access(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCRAPE_TOKEN_FOR_TEST", "scrape-secret-1")
    settings = MetricsSettings(token_env="SCRAPE_TOKEN_FOR_TEST")
    async with run_hub(tmp_path, [], metrics=settings) as h:
        creator = await h.token(Role.CREATOR)
        assert (await scrape(h, None)).status_code == 401  # closed, even from loopback
        assert (await scrape(h, "wrong")).status_code == 401
        assert (await scrape(h, creator)).status_code == 403
        assert (await scrape(h, h.admin_token)).status_code == 200
        assert (await scrape(h, "scrape-secret-1")).status_code == 200
        async with h.http("scrape-secret-1") as http:  # the scrape token opens nothing else
            assert (await http.get("/api/v1/status/footer")).status_code == 401

    open_locally = MetricsSettings(loopback_open=True)
    async with run_hub(tmp_path / "open", [], metrics=open_locally) as h:
        resp = await scrape(h, None)
        assert resp.status_code == 200 and "studio_status_events_published_total" in resp.text

    async with run_hub(tmp_path / "off", [], metrics=MetricsSettings(enabled=False)) as h:
        assert (await scrape(h, h.admin_token)).status_code == 404


def test_token_file(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("from-a-file\n")
    assert MetricsSettings(token_file=tmp_path / "token").scrape_token() == "from-a-file"
    with pytest.raises(ConfigError, match="token_file"):
        MetricsSettings(token_file=tmp_path / "missing").scrape_token()
