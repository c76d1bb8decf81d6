"""The contract number: which hubs and apps can talk, said once, checked on both paths.

The models tolerate additions (``extra="allow"``), so a newer hub with new fields is still
the same contract. The number moves only when a change breaks older peers (a field's meaning
changes, a route goes away). The hub states it on the footer route (a response header) and
in every snapshot; the app refuses a hub outside :data:`SUPPORTED_CONTRACTS` with "hub too
old" or "hub too new" instead of showing data it may misread. A hub that states no number
predates numbering, which began with contract 1 and changed nothing on the wire: it is 1.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "CONTRACT",
    "CONTRACT_HEADER",
    "HUB_ID_HEADER",
    "SUPPORTED_CONTRACTS",
    "contract_mismatch",
]

#: The contract this package's hub speaks.
CONTRACT: Final = 1
#: The contracts this package's app understands (inclusive).
SUPPORTED_CONTRACTS: Final = (1, 1)
#: Response headers of ``GET /api/v1/status/footer``: the contract and the hub's identity
#: (``hub_id``, stable per database), so a poll and the ``status`` command know whose data
#: they hold without opening the event stream.
CONTRACT_HEADER: Final = "X-Studio-Contract"
HUB_ID_HEADER: Final = "X-Studio-Hub-Id"


def contract_mismatch(contract: int | None) -> bool | None:
    """None when ``contract`` is spoken here; True when the hub is too new, False too old."""
    number = 1 if contract is None else contract
    low, high = SUPPORTED_CONTRACTS
    if number > high:
        return True
    if number < low:
        return False
    return None
