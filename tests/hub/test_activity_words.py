"""The activity feed names services by their labels, as the app does (never the id)."""

from __future__ import annotations

from datetime import UTC, datetime

from studio_status.hub.activity import describe
from studio_status.protocol import Event

T0 = datetime(2026, 1, 1, tzinfo=UTC)
LABELS = {"database": "DB"}


def test_service_change_and_alerts_use_labels() -> None:
    changed = Event(
        seq=1,
        type="service.health_changed",
        ts=T0,
        data={"service": "database", "previous": "healthy", "current": {"status": "down"}},
    )
    item = describe(changed, LABELS.get)
    assert item is not None and item["title"] == "DB is down"
    assert item["entity_id"] == "database"  # the click still finds the service
    alert = {"id": "a1", "service": "database", "state": "firing", "status": "down"}
    fired = Event(seq=2, type="alert.fired", ts=T0, data={"alert": alert})
    item = describe(fired, LABELS.get)
    assert item is not None and item["title"] == "Alert: DB"
    # a service without a label keeps its name
    other = Event(seq=3, type="alert.resolved", ts=T0, data={"alert": {**alert, "service": "x"}})
    item = describe(other, LABELS.get)
    assert item is not None and item["title"] == "Resolved: x"
