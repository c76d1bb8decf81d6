"""ComfyUI tracker rules without I/O, fed the real recorded bodies and messages."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from studio_status.hub.config import HubConfig
from studio_status.hub.sources.comfyui import (
    ComfyUITracker,
    Outcome,
    outcome_from_history,
    outcome_from_job,
    parse_queue,
    prompt_name,
)
from tests.hub.comfyreplay import load_capture

RUN4 = "c4ae9295-7036-4d7d-9e18-6905e32ade6a"
RUN5 = "29935c0d-ad6f-4572-89f5-85a47fe3cd96"


def body(req: str) -> Any:
    return next(r["body"] for r in load_capture() if r.get("req") == req)


def test_parse_queue_gives_running_and_pending_in_order() -> None:
    running, pending = parse_queue(body("GET /queue (while running)"))
    assert [i.prompt_id for i in running] == [RUN4]
    assert [i.prompt_id for i in pending] == [RUN5]
    assert running[0].client_id == "cfe69f37aa584acda00107b179ec1f05" and running[0].nodes == 4
    with pytest.raises(ValueError):
        parse_queue({"queue_running": None})


def test_outcomes_from_recorded_history_and_jobs() -> None:
    assert outcome_from_history(body("GET /history/<interrupted>")[RUN4]) == Outcome(
        "cancelled", "interrupted (node 3 ColorTransfer)"
    )
    first = next(r for r in load_capture() if r.get("req", "").startswith("GET /history/4981"))
    (entry,) = first["body"].values()
    assert outcome_from_history(entry) == Outcome("completed", cached=False)
    assert outcome_from_history(body("GET /history/<no client_id>")) == Outcome("completed")
    assert outcome_from_history({}) is None
    assert outcome_from_job(body("GET /api/jobs/<interrupted>")) == Outcome(
        "cancelled", "interrupted (node 3 ColorTransfer)"
    )
    failed = outcome_from_job(body("GET /api/jobs/<failed>"))
    assert (
        failed is not None
        and failed.kind == "failed"
        and "ZeroDivisionError" in (failed.error or "")
    )
    listing = body("GET /api/jobs?limit=5")["jobs"]
    assert [outcome_from_job(j) is None for j in listing] == [True, True, False, False, False]


def test_stale_queue_never_moves_a_prompt_back_and_outcomes_are_told_once() -> None:
    t = ComfyUITracker("box")
    start = t.on_message({"type": "execution_start", "data": {"prompt_id": RUN5}})
    assert [e.kind for e in start] == ["started"]
    # a /queue body fetched before the prompt started still lists it as pending
    events = t.on_queue(body("GET /queue (while running)"))
    assert [(e.kind, e.job_id) for e in events] == [("started", f"comfyui:box:{RUN4}")]
    assert t.active[RUN5] == "running"
    done = t.on_message({"type": "execution_success", "data": {"prompt_id": RUN5}})
    assert [e.kind for e in done] == ["completed"]
    assert t.on_lookup(RUN5, Outcome("failed"), known=True) == []
    assert t.on_listing([(RUN5, Outcome("completed"))]) == []
    assert (
        t.on_message({"type": "progress", "data": {"prompt_id": RUN5, "value": 1, "max": 2}}) == []
    )


def test_first_listing_is_a_baseline_and_later_finishes_are_news() -> None:
    t = ComfyUITracker("box")
    assert t.on_listing([("old", Outcome("completed"))]) == []
    (event,) = t.on_listing([("old", Outcome("completed")), ("new", Outcome("failed", "x"))])
    assert (event.kind, event.job_id, event.error) == ("failed", "comfyui:box:new", "x")


def test_status_changes_ask_for_a_poll_and_odd_messages_are_ignored() -> None:
    t = ComfyUITracker("box")
    status = {"type": "status", "data": {"status": {"exec_info": {"queue_remaining": 1}}}}
    t.on_message(status)
    assert t.poll_wanted
    # the next prompt's start shows on other sockets only as the same count again
    t.poll_wanted = False
    t.on_message(status)
    assert t.poll_wanted
    for odd in (
        {"type": "crystools.monitor", "data": {}},
        ["x"],
        {"type": "progress"},
        {"type": "progress", "data": {"prompt_id": "p", "value": 1, "max": 0}},
    ):
        t.on_message(odd)
    assert t.stats.ignored == 3


def test_job_ids_fit_the_hub_rules_even_for_odd_prompt_ids() -> None:
    t = ComfyUITracker("box")
    assert t.job_id("abc-1") == "comfyui:box:abc-1"
    odd = t.job_id("my prompt/with spaces")
    assert odd.startswith("comfyui:box:h-") and t.prompt_of(odd) is None
    assert t.prompt_of("comfyui:box:abc-1") == "abc-1"
    (event,) = t.on_message({"type": "execution_start", "data": {"prompt_id": "x" * 300}})
    assert len(event.event_id) <= 200


def test_config_names_the_bad_field() -> None:
    with pytest.raises(ValidationError, match="url"):
        HubConfig.model_validate({"sources": {"comfyui": [{"name": "a", "url": "nope"}]}})
    with pytest.raises(ValidationError, match="duplicate source name"):
        HubConfig.model_validate(
            {
                "sources": {
                    "comfyui": [
                        {"name": "a", "url": "http://h:1"},
                        {"name": "a", "url": "http://h:2"},
                    ]
                }
            }
        )


def test_prompt_names_name_the_main_node_and_queue_number() -> None:
    chain = {
        "1": {"class_type": "EmptyImage"},
        "2": {"class_type": "SlowProgress"},
        "3": {"class_type": "PreviewImage"},
    }
    assert prompt_name(chain, 23) == "SlowProgress #23"
    sd = {
        "4": {"class_type": "CheckpointLoaderSimple"},
        "3": {"class_type": "KSampler"},
        "8": {"class_type": "VAEDecode"},
        "9": {"class_type": "SaveImage"},
        "10": {"class_type": "ImageScale"},
    }
    assert prompt_name(sd, 4) == "KSampler #4"
    assert prompt_name({"1": {"class_type": "SaveImage"}}, 0) == "SaveImage #0"
    assert prompt_name(None, 1) is None


def queue(running: list[str], pending: list[str]) -> dict[str, object]:
    def item(n: int, pid: str) -> list[object]:
        return [n, pid, {"1": {"class_type": "KSampler"}}, {}, ["1"]]

    return {
        "queue_running": [item(i, p) for i, p in enumerate(running)],
        "queue_pending": [item(10 + i, p) for i, p in enumerate(pending)],
    }


def test_a_vanished_prompt_was_deleted_if_watched_and_lost_across_an_outage() -> None:
    t = ComfyUITracker("box")
    created = t.on_queue(queue(["a"], ["b", "c", "d"]))
    assert [(e.kind, e.queue_position, e.name) for e in created] == [
        ("started", None, "KSampler #0"),
        ("created", 1, "KSampler #10"),
        ("created", 2, "KSampler #11"),
        ("created", 3, "KSampler #12"),
    ]
    assert t.positions == {"comfyui:box:b": 1, "comfyui:box:c": 2, "comfyui:box:d": 3}
    t.on_queue(queue(["a"], ["b", "d"]))  # c deleted between two polls
    assert t.positions == {"comfyui:box:b": 1, "comfyui:box:d": 2}
    assert t.unresolved() == ["c"]
    (cancelled,) = t.on_lookup("c", None, known=False)
    assert cancelled.kind == "cancelled" and "removed from ComfyUI's queue" in (
        cancelled.error or ""
    )
    # the server goes away: everything stalls; when it answers empty, they went with it
    stalled = t.source_down("ComfyUI at http://box refuses connections")
    assert [e.kind for e in stalled] == ["stalled"] * 3
    assert t.source_down("again") == []
    t.on_queue(queue([], []))
    lost = [e for pid in t.unresolved() for e in t.on_lookup(pid, None, known=False)]
    assert {(e.job_id, e.kind) for e in lost} == {
        ("comfyui:box:a", "lost"),
        ("comfyui:box:b", "lost"),
        ("comfyui:box:d", "lost"),
    }
    assert {e.error for e in lost} == {"ComfyUI restarted; its queue and history went with it"}


def test_a_prompt_that_vanished_across_a_socket_break_is_lost_not_cancelled() -> None:
    t = ComfyUITracker("box")
    t.on_queue(queue(["a"], ["b"]))
    t.stream_broken()  # the socket dropped and came back: nobody saw the status stream
    t.on_queue(queue([], []))
    outcomes = {
        e.job_id: (e.kind, e.error)
        for p in t.unresolved()
        for e in t.on_lookup(p, None, known=False)
    }
    unseen = "ComfyUI has no record of it (deleted, or ComfyUI restarted while its socket was down)"
    assert outcomes == {"comfyui:box:a": ("lost", unseen), "comfyui:box:b": ("lost", unseen)}
    # a running prompt gone without a record while watched: its history was cleared
    t.on_queue(queue(["c"], []))
    t.on_queue(queue([], []))
    (cleared,) = t.on_lookup("c", None, known=False)
    assert (cleared.kind, cleared.error) == (
        "lost",
        "ComfyUI has no record of it any more (its history was cleared)",
    )
