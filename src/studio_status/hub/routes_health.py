"""Seed 001's health routes beyond the live status: uptime, quick actions, audit trail,
startup checklist, alerts. All admin-only: 401 without a valid token, 403 for other roles.

Included by :func:`studio_status.hub.api.create_app` *before* ``GET /admin/health/{service}``
so that fixed paths like ``/admin/health/uptime`` are not taken for a service name.
"""

from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Query
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ValidationError

from studio_status.protocol import Role
from studio_status.protocol.actions import (
    AuditEntry,
    CheckOutcome,
    DiagnoseOutcome,
    LogTail,
    RestartOutcome,
    RestartRequest,
)
from studio_status.protocol.alerts import (
    AlertConfig,
    AlertConfigUpdate,
    AlertsView,
    MaintenanceIn,
    MaintenanceWindow,
    Mute,
    MuteRequest,
    NotificationTest,
)
from studio_status.protocol.checklist import OverrideRequest, StartupCheck, StartupChecklist
from studio_status.protocol.uptime import UptimeReport

from .actions import ActionError, QuickActions
from .auth import split_token
from .deps import Access
from .gate import INT64_MAX, GatedRoute
from .openapi import REQUEST_SCHEMA, errors
from .service import Hub

__all__ = ["health_router"]


class UptimeEnvelope(BaseModel):
    data: UptimeReport


class CheckEnvelope(BaseModel):
    data: CheckOutcome


class NotificationTestEnvelope(BaseModel):
    data: NotificationTest


class DiagnoseEnvelope(BaseModel):
    data: DiagnoseOutcome


class RestartEnvelope(BaseModel):
    data: RestartOutcome


class LogsEnvelope(BaseModel):
    data: LogTail


class AuditEnvelope(BaseModel):
    data: list[AuditEntry]


class AlertsEnvelope(BaseModel):
    data: AlertsView


class AlertConfigEnvelope(BaseModel):
    data: AlertConfig


class MuteEnvelope(BaseModel):
    data: Mute


class MaintenanceEnvelope(BaseModel):
    data: MaintenanceWindow


class MaintenanceListEnvelope(BaseModel):
    data: list[MaintenanceWindow]


_MUTE_FOR = {"1h": timedelta(hours=1), "4h": timedelta(hours=4), "8h": timedelta(hours=8)}


class ChecklistEnvelope(BaseModel):
    data: StartupChecklist


class StartupCheckEnvelope(BaseModel):
    data: StartupCheck


_bearer = HTTPBearer(auto_error=False)


def health_router(hub: Hub) -> APIRouter:
    router = APIRouter(tags=["health"], route_class=GatedRoute)
    deps = Access(hub)
    Admin = Annotated[Role, Depends(deps.only(Role.ADMIN))]
    actions = QuickActions(hub)

    async def actor_of(
        _: Admin,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> str:
        """Who acts, for the audit trail: the token's name and id (the role is checked by
        ``Admin`` first, so this runs only for valid admin tokens)."""
        parts = split_token(credentials.credentials.strip()) if credentials else None
        if parts is None:
            return "bootstrap"
        row = await hub.store.find_token(parts[0])
        return f"{row.name} ({row.id})" if row is not None else parts[0]

    Actor = Annotated[str, Depends(actor_of)]

    def known(service: str) -> str:
        if service not in hub.state.services:
            raise HTTPException(404, f"no service named {service!r}")
        return service

    @router.get("/admin/health/uptime", response_model=UptimeEnvelope, responses=errors(404))
    async def uptime(
        _: Admin,
        period: Literal["24h", "7d", "30d"] = "7d",
        service: Annotated[list[str] | None, Query()] = None,
        timeline: bool = True,
    ) -> UptimeEnvelope:
        """Time-weighted uptime (see ``docs/uptime.md``) per service for ``period``, plus
        the 24 h / 7 d / 30 d figures, and the timeline with outages unless
        ``timeline=false``. ``service`` may repeat; absent means every service."""
        names = [known(s) for s in service] if service else list(hub.state.services)
        return UptimeEnvelope(data=await hub.uptime.report(period, names, timeline=timeline))

    @router.get("/admin/health/audit", response_model=AuditEnvelope)
    async def audit(
        _: Admin,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        service: str | None = None,
        action: str | None = None,
        before_id: Annotated[int | None, Query(ge=1, le=INT64_MAX)] = None,
    ) -> AuditEnvelope:
        """The audit trail, newest first; page with ``before_id``."""
        return AuditEnvelope(
            data=await actions.audit.list(
                limit=limit, service=service, action=action, before_id=before_id
            )
        )

    @router.get("/admin/health/alerts", response_model=AlertsEnvelope)
    async def alerts(_: Admin) -> AlertsEnvelope:
        """Every service's alert config and open alert, plus mutes and maintenance."""
        return AlertsEnvelope(data=hub.alerts.view(list(hub.state.services)))

    @router.put(
        "/admin/health/alerts/{service}", response_model=AlertConfigEnvelope, responses=errors(404)
    )
    async def put_alert_config(
        service: str, update: AlertConfigUpdate, actor: Actor
    ) -> AlertConfigEnvelope:
        """Change the given fields of one service's alert config (the rest stay)."""
        known(service)
        try:
            config = await hub.alerts.update_config(service, update)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            raise HTTPException(422, f"{field}: {first['msg']}") from None
        await actions.record(
            actor,
            "alert_config",
            service,
            "ok",
            params=update.model_dump(mode="json", exclude_unset=True),
        )
        return AlertConfigEnvelope(data=config)

    @router.put("/admin/health/mute", response_model=MuteEnvelope, responses=errors(404))
    async def mute(body: MuteRequest, actor: Actor) -> MuteEnvelope:
        """Mute one service (or, without ``service``, everything) for 1 h / 4 h / 8 h or
        until cleared: no notices; ``muted_until`` shows on the service."""
        if body.service is not None:
            known(body.service)
        result = await hub.alerts.mute(
            body.service, _MUTE_FOR.get(body.duration), actor, body.reason
        )
        await actions.record(actor, "mute", body.service, "ok", params=body.model_dump(mode="json"))
        return MuteEnvelope(data=result)

    @router.delete("/admin/health/mute", status_code=204, responses=errors(404))
    async def unmute(actor: Actor, service: str | None = None) -> None:
        """Clear the mute of ``service`` (or the global one); notices held meanwhile for
        incidents still open go out now."""
        if not await hub.alerts.unmute(service):
            raise HTTPException(404, f"no mute for {service or 'everything'}")
        await actions.record(actor, "unmute", service, "ok")

    @router.get("/admin/health/maintenance", response_model=MaintenanceListEnvelope)
    async def maintenance(_: Admin) -> MaintenanceListEnvelope:
        return MaintenanceListEnvelope(data=list(hub.alerts.maintenance.windows.values()))

    @router.post(
        "/admin/health/maintenance",
        response_model=MaintenanceEnvelope,
        status_code=201,
        responses=errors(404),
    )
    async def add_maintenance(body: MaintenanceIn, actor: Actor) -> MaintenanceEnvelope:
        """A maintenance window: checks run, notices are held, uptime leaves it out."""
        if body.service is not None:
            known(body.service)
        window = await hub.alerts.add_maintenance(body, actor)
        await actions.record(
            actor, "maintenance_add", body.service, "ok", params=body.model_dump(mode="json")
        )
        return MaintenanceEnvelope(data=window)

    @router.delete("/admin/health/maintenance/{window_id}", status_code=204, responses=errors(404))
    async def delete_maintenance(window_id: str, actor: Actor) -> None:
        if not await hub.alerts.remove_maintenance(window_id):
            raise HTTPException(404, f"no maintenance window {window_id!r} set through the API")
        await actions.record(actor, "maintenance_delete", None, "ok", params={"id": window_id})

    @router.get("/admin/health/startup-checklist", response_model=ChecklistEnvelope)
    async def startup_checklist(_: Admin) -> ChecklistEnvelope:
        """The pre-flight checks and the ``ready`` flag (pending checks are still running)."""
        return ChecklistEnvelope(data=hub.checklist.snapshot())

    @router.post(
        "/admin/health/startup-checklist/{check}/override",
        response_model=StartupCheckEnvelope,
        responses=errors(404),
    )
    async def override_check(
        check: str, body: OverrideRequest, actor: Actor
    ) -> StartupCheckEnvelope:
        """Unblock one check for this run; the reason and the admin go to the audit trail."""
        if check not in hub.checklist.checks:
            raise HTTPException(404, f"no startup check named {check!r}")
        before = hub.checklist.checks[check].state
        result = hub.checklist.override(check, actor, body.reason)
        await actions.record(
            actor,
            "startup_override",
            None,
            "ok",
            params={"check": check, "reason": body.reason},
            detail={"before": before, "after": result.state, "ready": hub.ready},
        )
        return StartupCheckEnvelope(data=result)

    @router.post(
        "/admin/health/{service}/recheck",
        response_model=CheckEnvelope,
        responses=errors(404, 409, s409="The service's status is pushed, not checked"),
    )
    async def recheck(service: str, actor: Actor) -> CheckEnvelope:
        """Check now, outside the interval; the result is applied like any check."""
        try:
            return CheckEnvelope(data=await actions.recheck(known(service), actor))
        except ActionError as exc:
            raise HTTPException(exc.status, exc.message) from None

    @router.post(
        "/admin/health/{service}/test-notification",
        response_model=NotificationTestEnvelope,
        responses=errors(404),
    )
    async def test_notification(service: str, actor: Actor) -> NotificationTestEnvelope:
        """Send a test notice to every external channel of the service (Apprise URLs, the
        webhook) through the alert outbox, and say how the first attempt went."""
        channels = await hub.alerts.send_test(known(service), actor)
        return NotificationTestEnvelope(data=NotificationTest(service=service, channels=channels))

    @router.post(
        "/admin/health/{service}/diagnose",
        response_model=DiagnoseEnvelope,
        responses=errors(404, 409, s409="The service's status is pushed, not checked"),
    )
    async def diagnose(service: str, actor: Actor) -> DiagnoseEnvelope:
        """The checker's extended probe with its detailed output."""
        try:
            return DiagnoseEnvelope(data=await actions.diagnose(known(service), actor))
        except ActionError as exc:
            raise HTTPException(exc.status, exc.message) from None

    @router.post(
        "/admin/health/{service}/restart",
        response_model=RestartEnvelope,
        responses=errors(
            400,
            404,
            409,
            s400='Not confirmed: send {"confirm": true}',
            s409="No restart command configured, or a restart is already running",
        ),
        # what is accepted; anything else is refused with 400, and the refusal audited
        openapi_extra={
            REQUEST_SCHEMA: {
                "type": "object",
                "properties": {"confirm": {"const": True}},
                "required": ["confirm"],
            }
        },
    )
    async def restart(
        service: str, actor: Actor, body: Annotated[RestartRequest | None, Body()] = None
    ) -> RestartEnvelope:
        """Run the service's configured ``restart`` argv. Needs ``{"confirm": true}``:
        without it, 400 (and the refusal is audited)."""
        try:
            outcome = await actions.restart(
                known(service), actor, confirmed=body is not None and body.confirm
            )
        except ActionError as exc:
            raise HTTPException(exc.status, exc.message) from None
        return RestartEnvelope(data=outcome)

    @router.get(
        "/admin/health/{service}/logs",
        response_model=LogsEnvelope,
        responses=errors(404, 409, s404="No such service, or no log file to read"),
    )
    async def logs(
        service: str, actor: Actor, lines: Annotated[int, Query(ge=1, le=5000)] = 100
    ) -> LogsEnvelope:
        """The last ``lines`` lines of the service's configured ``log_file``."""
        try:
            return LogsEnvelope(data=await actions.logs(known(service), actor, lines))
        except ActionError as exc:
            raise HTTPException(exc.status, exc.message) from None

    return router
