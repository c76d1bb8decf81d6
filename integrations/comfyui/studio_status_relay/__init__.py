"""Studio Status relay: a ComfyUI custom-node package with no nodes.

Copy (or link) this folder into ``ComfyUI/custom_nodes/`` and restart ComfyUI. From then on
every prompt's execution events also reach the Studio Status hub's socket, so prompts that
other clients submit (the web UI always sends its own client id) show real progress and
ETAs in the hub instead of an indeterminate bar. ``GET /studio_status/relay`` answers
``{"relay": true}`` so an install can be checked. See ``relay.py`` for how it hooks in.
"""

from server import PromptServer  # type: ignore[import-not-found]

from .relay import PREFIX, install

NODE_CLASS_MAPPINGS: dict[str, object] = {}
NODE_DISPLAY_NAME_MAPPINGS: dict[str, str] = {}

_relay = install(PromptServer.instance)


@PromptServer.instance.routes.get("/studio_status/relay")
async def _relay_info(request: object) -> object:
    from aiohttp import web  # type: ignore[import-not-found]

    return web.json_response({"relay": True, "prefix": PREFIX, "relayed": _relay.relayed})
