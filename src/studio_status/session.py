"""One profile's connection: an embedded hub when the profile names none, and the client.

Why its own object: switching profile (tray or settings) must stop exactly what the old
profile started (client tasks, the embedded hub) before the new one starts, with the store
emptied in between so one platform's state never shows under another's name. No Qt here.
"""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio_status.appconfig import Profile, RefreshSettings
from studio_status.client.state import ConnectionState, Source, StatusStore

if TYPE_CHECKING:
    from studio_status.client import SnapshotCache, StatusClient
    from studio_status.embedded import EmbeddedHub

__all__ = ["DEMO_HUB", "OWN_HUB", "ProfileSession", "cache_path", "hub_name"]

log = logging.getLogger("app")

#: The notices' subject for the app's own hub (never a service name: those have no spaces).
HUB_SUBJECT = "embedded hub"


#: What the cache and the views call a hub the app runs itself.
OWN_HUB = "this computer"
DEMO_HUB = "simulated studio"


def cache_path(profile: str, cache_dir: Path | None = None, *, hub: str = OWN_HUB) -> Path:
    """The last-good footer of one profile *on one hub*: another hub's must never paint.

    ``hub`` is the URL in use (``--hub`` gives another file than the profile's own URL), or
    :data:`OWN_HUB` / :data:`DEMO_HUB` for the app's own hub (the demo's is another one).
    Inside the file, the hub's id says which database the data came from (see
    :meth:`StatusStore.apply_footer`).
    """
    if cache_dir is None:
        import platformdirs

        cache_dir = Path(platformdirs.user_cache_dir("studio-status"))
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", profile).strip("._") or "profile"
    key = hashlib.sha256(hub.rstrip("/").lower().encode()).hexdigest()[:12]
    return cache_dir / f"footer-{slug}-{key}.json"


def hub_name(profile: Profile, demo: bool) -> str:
    """The hub a profile shows, as views name it: its URL, or the app's own hub."""
    if profile.hub_url is not None:
        return profile.hub_url
    return DEMO_HUB if demo else OWN_HUB


class ProfileSession:
    """Starts and stops what one profile needs.

    Attributes:
        profile: the profile this session runs.
        hub: the embedded hub (in this process), when the profile names no hub URL.
        client: the :class:`StatusClient`, once started.
        cache: the profile's snapshot cache.
        url: the hub URL in use ('' until known).
    """

    def __init__(
        self,
        store: StatusStore,
        profile: Profile,
        *,
        token: str | None,
        refresh: RefreshSettings,
        demo: bool = False,
        cache_dir: Path | None = None,
        override: bool = False,
        database: Path | None = None,
    ) -> None:
        """``database``: the embedded hub's (None: the default, or the demo's own)."""
        from studio_status.client.cache import SnapshotCache

        self.store = store
        self.profile = profile
        self.refresh = refresh
        self.demo = demo
        self.database = database
        self._token = token
        self.hub: EmbeddedHub | None = None
        self.client: StatusClient | None = None
        hub = hub_name(profile, demo)
        self.cache: SnapshotCache = SnapshotCache(cache_path(profile.name, cache_dir, hub=hub))
        self.url = profile.hub_url or ""
        insecure = profile.verify is False and hub.startswith("https:")
        store.set_source(Source(profile.name, hub, override, insecure))

    def paint_cached(self) -> None:
        """Show this profile's last good footer at once (stale), before any network."""
        cached = self.cache.load()
        if cached is not None:
            self.store.load_cached(cached.footer, cached.role, cached.at, cached.hub_id)

    async def start(self) -> Any:
        """Start the hub (if embedded) and the client; returns the client's task or None."""
        url, token = self.profile.hub_url, self._token
        if url is None:
            from studio_status.embedded import EmbeddedHub

            hub = EmbeddedHub(demo=self.demo, database=self.database, on_problem=self._hub_problem)
            try:
                await hub.start()
            except Exception:
                log.exception("could not start the embedded hub")
                self.store.set_connection(ConnectionState.OFFLINE)
                return None
            self.hub = hub
            url, token = hub.url, hub.token
        from studio_status.client import StatusClient

        self.url = url
        self.client = StatusClient(
            url,
            self.store,
            token=token,
            cache=self.cache,
            verify=self.profile.verify,
            poll_interval=self.refresh.poll_seconds,
            stale_after=self.refresh.stale_after_seconds,
        )
        log.info("profile %r: connecting to %s", self.profile.name, url)
        return self.client.start()

    def _hub_problem(self, problem: str | None) -> None:
        """The embedded hub stopped on its own (it is being restarted), or runs again."""
        from studio_status.protocol import HealthStatus

        if problem is None:
            self.store.report(HUB_SUBJECT, HealthStatus.HEALTHY, "Embedded hub running again")
        else:
            self.store.report(HUB_SUBJECT, HealthStatus.DOWN, f"Embedded hub stopped: {problem}")

    def set_token(self, token: str | None) -> None:
        """A new token for this profile (settings): reconnect with it, no restart."""
        self._token = token
        if self.client is not None and self.hub is None:
            self.client.set_token(token)

    async def stop(self) -> None:
        if self.client is not None:
            await self.client.aclose()
            self.client = None
        if self.hub is not None:
            await self.hub.stop()
            self.hub = None
