"""The renditions a video's JSON lists: every shape it is delivered in, with links once completed."""

from __future__ import annotations

from adgen_gateway.clients.export import ExportClient
from adgen_gateway.videos import VideoView
from adgen_video.renditions import renditions
from adgen_video.request_limits import ASPECT_RATIOS

_NAMES = {value: name for name, value in ASPECT_RATIOS.items()}


async def published_json(export: ExportClient, video_id: str, user_id: str, version: int = 0) -> list[dict]:
    """The published renditions of a completed version (0: the latest), primary first, with
    pre-signed links to the video, the poster and the captions."""
    return [
        {
            "aspect_ratio": _NAMES.get(r.aspect_ratio, ""),
            "width": r.width,
            "height": r.height,
            "primary": r.primary,
            "download_url": r.download_url,
            "poster_url": r.poster_url,
            "captions_url": r.captions_url or None,
            "expires_at": r.expires_at.ToDatetime().isoformat() + "Z",
        }
        for r in await export.renditions(video_id, user_id, version)
    ]


async def renditions_json(export: ExportClient, view: VideoView, user_id: str) -> list[dict]:
    """Completed: the published renditions (primary first) with pre-signed links to the video, the
    poster and the captions. Before that: the shapes that will be delivered, links null."""
    if view.status == "completed":
        published = await published_json(export, view.video_id, user_id)
        if published:
            return published
    if view.spec is None:
        return []
    return [
        {
            "aspect_ratio": r.aspect_ratio,
            "width": r.output.width,
            "height": r.output.height,
            "primary": r.primary,
            "download_url": None,
            "poster_url": None,
            "captions_url": None,
            "expires_at": None,
        }
        for r in renditions(view.spec)
    ]
