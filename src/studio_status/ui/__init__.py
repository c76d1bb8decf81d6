"""Qt views over the client's :class:`~studio_status.client.state.StatusStore`.

Views read the store (through :class:`~studio_status.ui.feed.StateFeed`, which coalesces
repaints) and emit intents (``*_requested`` signals); they never fetch, and hold no state
that the store has. :mod:`formats` is pure (no Qt) so every text is testable on its own.
"""
