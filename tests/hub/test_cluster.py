"""Who owns what among replicas: rendezvous hashing spreads names evenly and moves only
the departed member's names when one leaves."""

from __future__ import annotations

from studio_status.hub.cluster import LEADER, rendezvous_owner


def test_names_spread_over_members_and_only_a_leavers_names_move() -> None:
    names = [f"service-{i}" for i in range(300)]
    members = ["r1", "r2", "r3"]
    owners = {n: rendezvous_owner(n, members) for n in names}
    counts = {m: list(owners.values()).count(m) for m in members}
    assert all(70 <= c <= 130 for c in counts.values()), counts
    after = {n: rendezvous_owner(n, ["r1", "r3"]) for n in names}
    moved = [n for n in names if after[n] != owners[n]]
    assert moved == [n for n in names if owners[n] == "r2"]
    assert rendezvous_owner(LEADER, []) is None
    # the order members are listed in does not matter
    assert all(rendezvous_owner(n, ["r3", "r1", "r2"]) == owners[n] for n in names)
