"""Cloud GPUs on a fake clock: budget colours, exact spend, forecast, and the RunPod poll
loop over recorded responses (errors degrade the source, never empty the pods)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from studio_status.backoff import EQUAL, backoff_delay
from studio_status.hub.api import create_app
from studio_status.hub.cloud import (
    Budget,
    CostLedger,
    budget_status,
    forecast_month,
    summarize,
)
from studio_status.hub.config import CloudSettings, ConfigError, HubConfig, HubSettings, load_config
from studio_status.hub.service import Hub
from studio_status.protocol import BudgetStatus, CloudPod, Event, HealthStatus, Role

FIXTURES = Path(__file__).parent.parent / "fixtures" / "runpod"
T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
ADMIN = "test-admin-token"


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def pod(pod_id: str, cents: int, status: str = "RUNNING") -> CloudPod:
    return CloudPod(id=pod_id, status=status, cost_per_hour_cents=cents)


# -- budget and accounting (pure) -----------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "expected"),
    [
        (0, BudgetStatus.WITHIN_BUDGET),
        (319, BudgetStatus.WITHIN_BUDGET),
        (320, BudgetStatus.APPROACHING),  # exactly 80 % of 400
        (400, BudgetStatus.APPROACHING),  # running at the cap is not over it
        (401, BudgetStatus.EXCEEDED),
    ],
)
def test_hourly_cap_thresholds(rate: int, expected: BudgetStatus) -> None:
    assert budget_status([pod("a", rate)], rate, Budget(per_hour_cents=400)) is expected


def test_monthly_cap_thresholds_and_custom_percent() -> None:
    month = Budget(per_month_cents=10_000, approaching_percent=50)
    assert budget_status([], 0, month, 4_999.99) is BudgetStatus.WITHIN_BUDGET
    assert budget_status([], 0, month, 5_000) is BudgetStatus.APPROACHING
    assert budget_status([], 0, month, 10_000) is BudgetStatus.EXCEEDED
    assert budget_status([], 10**6, Budget(), 10**9) is BudgetStatus.WITHIN_BUDGET  # no caps


def test_pod_error_wins_and_only_running_pods_count() -> None:
    pods = [pod("a", 100), pod("b", 74, "EXITED"), pod("c", 50, "RESTARTING")]
    summary = summarize(pods, Budget(per_hour_cents=1000))
    assert (summary.active_pods, summary.cost_per_hour_cents) == (2, 150)
    dead = summarize([*pods, pod("d", 0, "DEAD")], Budget(per_hour_cents=1000))
    assert dead.budget_status is BudgetStatus.ERROR
    assert summarize([pod("e", 1, "ERROR")], Budget()).budget_status is BudgetStatus.ERROR


def test_ledger_spend_is_exact_across_rate_changes_and_midnight() -> None:
    ledger = CostLedger(max_gap=timedelta(hours=1))
    start = datetime(2026, 3, 10, 23, 0, tzinfo=UTC)
    ledger.advance(start, 100)  # 100 c/h from 23:00
    ledger.advance(start + timedelta(minutes=30), 300)  # 50 c; then 300 c/h
    ledger.advance(start + timedelta(minutes=45), 300)  # 75 c
    ledger.advance(start + timedelta(minutes=75), 0)  # 75 c before midnight, 75 c after
    assert ledger.spend_day(start.date()) == pytest.approx(200.0, abs=1e-9)
    assert ledger.spend_day(start.date() + timedelta(days=1)) == pytest.approx(75.0, abs=1e-9)
    ledger.advance(start + timedelta(hours=5))  # rate 0: nothing more
    assert ledger.spend_month(start) == pytest.approx(275.0, abs=1e-9)


def test_ledger_does_not_guess_across_a_long_gap() -> None:
    ledger = CostLedger(max_gap=timedelta(minutes=15))
    ledger.advance(T0, 600)
    ledger.advance(T0 + timedelta(hours=3), 600)  # the hub was down: nothing observed
    assert ledger.spend_day(T0.date()) == 0
    ledger.advance(T0 + timedelta(hours=3, minutes=10))
    assert ledger.spend_day(T0.date()) == pytest.approx(100.0)


def test_ledger_month_boundary_uses_utc_months() -> None:
    ledger = CostLedger()
    end_of_feb = datetime(2026, 2, 28, 23, 50, tzinfo=UTC)
    ledger.advance(end_of_feb, 600)
    ledger.advance(end_of_feb + timedelta(minutes=15))
    assert ledger.spend_month(end_of_feb) == pytest.approx(100.0)
    assert ledger.spend_month(datetime(2026, 3, 1, 1, tzinfo=UTC)) == pytest.approx(50.0)


def test_forecast_of_the_monthly_cap() -> None:
    now = datetime(2026, 3, 10, 0, 0, tzinfo=UTC)  # 22 days (528 h) left in March
    projected, reached = forecast_month(now, 100, 20_000, 30_000)
    assert projected == pytest.approx(20_000 + 100 * 528)
    assert reached == now + timedelta(hours=100)
    assert forecast_month(now, 10, 20_000, 30_000)[1] is None  # month ends first
    assert forecast_month(now, 0, 20_000, 30_000)[1] is None
    assert forecast_month(now, 100, 30_000, 30_000)[1] == now  # already there
    assert forecast_month(now, 100, 0, None) == (pytest.approx(52_800), None)


def test_config_cloud_table_and_no_keys_in_files(tmp_path: Path) -> None:
    path = tmp_path / "hub.toml"
    path.write_text(
        '[cloud]\nprovider = "runpod"\npoll_seconds = 45\nbudget_per_hour = 4.5\n'
        "budget_per_month = 2000\napproaching_percent = 75\n"
    )
    config, found = load_config(path)
    assert found and config.cloud.provider == "runpod" and config.cloud.poll_seconds == 45
    path.write_text('[cloud]\nprovider = "runpod"\napi_key = "rp_123"\n')
    with pytest.raises(ConfigError, match="never go in the config file"):
        load_config(path)
    path.write_text("[cloud]\napproaching_percent = 120\n")
    with pytest.raises(ConfigError, match="approaching_percent"):
        load_config(path)


# -- the service on a real hub object ---------------------------------------------------


class Sleeper:
    """The poll loop's sleep: records delays and waits until the test lets it go on."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self._sleeping: asyncio.Queue[asyncio.Future[None]] = asyncio.Queue()

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        wake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleeping.put_nowait(wake)
        await wake

    async def next(self) -> asyncio.Future[None]:
        return await asyncio.wait_for(self._sleeping.get(), 5)


class RunPodReplay:
    """Answers each poll with the next scripted response."""

    def __init__(self) -> None:
        self.responses: list[httpx.Response] = []
        self.requests = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return self.responses.pop(0)


def graphql(*pods: dict[str, Any]) -> httpx.Response:
    return httpx.Response(200, json={"data": {"myself": {"pods": list(pods)}}})


def recorded_pod(**changes: Any) -> dict[str, Any]:
    body = json.loads((FIXTURES / "graphql-myself-pods.json").read_text())
    raw: dict[str, Any] = body["data"]["myself"]["pods"][0]
    raw.update(changes)
    return raw


@contextlib.asynccontextmanager
async def cloud_hub(
    database: Path | str,
    clock: Clock,
    *,
    replay: RunPodReplay | None = None,
    sleeper: Sleeper | None = None,
    key: Callable[[], str | None] = lambda: "rp_test",
    **cloud: Any,
) -> AsyncIterator[Hub]:
    config = HubConfig(hub=HubSettings(database=database), cloud=CloudSettings(**cloud))
    hub = Hub(config, [], clock=clock, bootstrap_token=ADMIN)
    hub.cloud.rng = random.Random(7)  # the jittered backoff, reproducible
    if replay is not None:
        hub.cloud.transport = httpx.MockTransport(replay)
    hub.cloud.key_lookup = key
    if sleeper is not None:
        hub.cloud.sleep = sleeper
    await hub.start(run_checks=False)
    try:
        yield hub
    finally:
        await hub.stop()


async def drain(hub: Hub, queue: asyncio.Queue[Event]) -> list[Event]:
    """What reached ``queue`` once everything published is committed and delivered (on
    PostgreSQL events are numbered and fanned out at commit)."""
    await hub.settle()
    out = []
    while not queue.empty():
        out.append(queue.get_nowait())
    return out


async def test_poll_errors_degrade_the_source_keep_pods_and_back_off(database: Path | str) -> None:
    clock, replay, sleeper = Clock(), RunPodReplay(), Sleeper()
    replay.responses = [
        graphql(recorded_pod()),
        httpx.Response(200, json={"errors": [{"message": "Something went wrong"}]}),
        httpx.Response(429, headers={"Retry-After": "300"}),
        httpx.Response(401),
        graphql(recorded_pod(), recorded_pod(id="p2", costPerHr=3.5, name="big")),
    ]
    async with cloud_hub(
        database, clock, replay=replay, sleeper=sleeper, provider="runpod", budget_per_hour=4
    ) as hub:
        sub = hub.bus.subscribe(Role.ADMIN, ["cloud", "health"])
        wake = await sleeper.next()
        assert hub.state.cloud_gpu is not None
        assert hub.state.cloud_gpu.active_pods == 1
        assert hub.state.cloud_gpu.cost_per_hour_cents == 74
        assert hub.state.services["cloud"].status is HealthStatus.HEALTHY
        events = await drain(hub, sub.queue)
        added = [e for e in events if e.type == "cloud.pod_status_changed"]
        assert [e.data["pod"]["id"] for e in added] == ["ldl1dxirsim64n"]
        assert added[0].data["previous"] is None

        for _ in range(3):  # GraphQL error, rate limit, bad key
            clock.advance(seconds=sleeper.delays[-1])
            wake.set_result(None)
            wake = await sleeper.next()
            assert hub.state.services["cloud"].status is HealthStatus.DEGRADED
            assert hub.state.cloud_gpu.active_pods == 1  # last pods kept, not zero
        assert "Something went wrong" in str(
            [
                e.data["current"]["error_message"]
                for e in await drain(hub, sub.queue)
                if e.type.startswith("service")
            ]
        )
        assert hub.state.services["cloud"].error_message == (
            "runpod: HTTP 401: the API key was refused"
        )
        # 30 s, then a jittered doubling per failure: up to 60, up to 120 (Retry-After 300
        # wins), up to 240, never less than half of it
        ref = random.Random(7)
        jittered = [backoff_delay(n, 30, 600, spread=EQUAL, rng=ref) for n in (1, 2, 3)]
        assert sleeper.delays == [30, jittered[0], 300, jittered[2]]
        assert 30 <= jittered[0] <= 60 and 120 <= jittered[2] <= 240

        clock.advance(seconds=sleeper.delays[3])
        wake.set_result(None)
        wake = await sleeper.next()
        assert sleeper.delays[-1] == 30  # recovered: back to the normal interval
        summary = hub.state.cloud_gpu
        assert (summary.active_pods, summary.cost_per_hour_cents) == (2, 424)
        assert summary.budget_status is BudgetStatus.EXCEEDED
        assert hub.state.services["cloud"].status is HealthStatus.HEALTHY
        footer = json.loads(hub.state.footer_json(Role.ADMIN))["data"]["cloud_gpu"]
        assert footer == {
            "active_pods": 2,
            "cost_per_hour_cents": 424,
            "budget_status": "exceeded",
        }
        assert json.loads(hub.state.footer_json(Role.CREATOR))["data"]["cloud_gpu"] is None
        # spend: 74 c/h held through the four waits, errors or not
        held = sum(sleeper.delays[:4])
        assert hub.cloud.budget_state().spend_today_cents == pytest.approx(74 * held / 3600)
        wake.cancel()


async def test_missing_key_is_down_not_empty(database: Path | str) -> None:
    sleeper = Sleeper()
    async with cloud_hub(
        database, Clock(), sleeper=sleeper, key=lambda: None, provider="runpod"
    ) as hub:
        wake = await sleeper.next()
        cloud = hub.state.services["cloud"]
        assert cloud.status is HealthStatus.DOWN and "RUNPOD_API_KEY" in (cloud.error_message or "")
        assert sleeper.delays == [600]
        wake.cancel()


async def test_pushed_pods_costs_forecast_staleness_and_restart(database: Path | str) -> None:
    clock = Clock(datetime(2026, 3, 10, 0, 0, tzinfo=UTC))
    async with cloud_hub(database, clock, budget_per_month=2.9) as hub:
        assert hub.state.cloud_gpu is None  # nothing configured, nothing pushed yet
        sub = hub.bus.subscribe(Role.ADMIN, ["cloud"])
        await hub.cloud.apply("lambda", [pod("a", 100), pod("b", 50, "EXITED")])
        assert hub.state.services["cloud"].status is HealthStatus.HEALTHY
        clock.advance(minutes=12)
        await hub.cloud.tick()  # 20 c
        clock.advance(minutes=12)
        await hub.cloud.apply("lambda", [pod("a", 200), pod("b", 50, "RUNNING")])  # 20 c
        clock.advance(minutes=12)
        await hub.cloud.apply("lambda", [pod("b", 50)])  # 50 c at 250 c/h; a is gone
        changes = [
            (e.data["pod"]["id"], e.data["pod"]["status"], e.data["previous"])
            for e in await drain(hub, sub.queue)
        ]
        assert changes == [
            ("a", "RUNNING", None),
            ("b", "EXITED", None),
            ("a", "RUNNING", "RUNNING"),  # its rate changed
            ("b", "RUNNING", "EXITED"),
            ("a", "TERMINATED", "RUNNING"),
        ]
        state = hub.cloud.budget_state()
        assert state.spend_today_cents == pytest.approx(90.0)
        assert state.status is BudgetStatus.WITHIN_BUDGET
        # 200 c left of 290 at 50 c/h: the cap is reached in 4 hours
        assert state.month_cap_reached_at == clock.now + timedelta(hours=4)
        clock.advance(minutes=9)
        await hub.cloud.tick()
        clock.advance(minutes=9)  # 18 min without a push: stale
        await hub.cloud.tick()
        assert hub.state.services["cloud"].status is HealthStatus.UNKNOWN
        assert hub.state.cloud_gpu is not None and hub.state.cloud_gpu.active_pods == 1
        spent = hub.cloud.budget_state().spend_month_cents
        assert spent == pytest.approx(105.0)
        costs = await hub.cloud.costs(hours=24)
        assert [p.cost_per_hour_cents for p in costs.series] == [100, 100, 250, 50, 50, 50]
        assert [d.day for d in costs.days] == ["2026-03-10"]
    clock.advance(minutes=1)
    async with cloud_hub(database, clock, budget_per_month=2.9) as again:
        assert again.cloud.view().pods[0].id == "b"  # last known pods survive a restart
        assert again.state.cloud_gpu is not None and again.state.cloud_gpu.active_pods == 1
        await again.cloud.tick()  # a one-minute restart gap is charged at the last rate
        assert again.cloud.budget_state().spend_month_cents == pytest.approx(105.0 + 50 / 60)
        view = again.cloud.view("running")
        assert [p.id for p in view.pods] == ["b"] and view.providers[0].name == "lambda"


async def test_pods_route_reads_the_polled_source_and_refuses_pushes_for_it(
    database: Path | str,
) -> None:
    clock, replay, sleeper = Clock(), RunPodReplay(), Sleeper()
    replay.responses = [
        graphql(recorded_pod(), recorded_pod(id="stopped", desiredStatus="EXITED", runtime=None)),
        httpx.Response(503, text="upstream down"),
    ]
    async with cloud_hub(
        database, clock, replay=replay, sleeper=sleeper, provider="runpod", budget_per_hour=0.9
    ) as hub:
        wake = await sleeper.next()
        clock.advance(seconds=30)
        wake.set_result(None)
        wake = await sleeper.next()
        app = create_app(hub, manage_lifecycle=False)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://hub",
            headers={"Authorization": f"Bearer {ADMIN}"},
        ) as http:
            body = (await http.get("/admin/cloud/pods", params={"status": "running"})).json()
            data = body["data"]
            assert [p["id"] for p in data["pods"]] == ["ldl1dxirsim64n"]
            assert data["summary"] == {
                "active_pods": 1,
                "cost_per_hour_cents": 74,
                "budget_status": "approaching",  # 74 of 90 c/h is over 80 %
            }
            assert data["budget"]["cap_per_hour_cents"] == 90
            [source] = data["providers"]
            assert (source["name"], source["mode"], source["status"]) == (
                "runpod",
                "poll",
                "degraded",
            )
            assert "HTTP 503" in source["error"]
            assert source["last_ok_at"] == T0.isoformat().replace("+00:00", "Z")
            every = (await http.get("/admin/cloud/pods")).json()["data"]["pods"]
            assert {p["id"] for p in every} == {"ldl1dxirsim64n", "stopped"}
            refused = await http.post("/api/v1/cloud/pods", json={"provider": "runpod", "pods": []})
            assert refused.status_code == 409
        wake.cancel()
