"""The export service's work: the final object, poster and captions, the video marked completed,
clean-up, and short-lived download links.

* The final video is uploaded from the file the poster is cut from (one download either way), with
  boto3's transfer manager: multipart above 8 MiB, so size is never a limit (a single-request copy
  stops at 5 GB).
* Every rendition (the primary shape and any further ones) gets its final object and poster, all
  share the one captions file, and each is recorded in ``renditions``, for the version being made
  (a later version has objects of its own: final_v2.mp4). The version's refined videos and their
  sidecar are deleted only after every rendition is published and the video row says completed,
  unless ``ADGEN_KEEP_INTERMEDIATES`` is set; the clips, hand-off frames, lines and music stay, for
  the versions an edit makes from them.
* The cost breakdown is not stored here: it is the ledger query that the status read runs.
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import cv2
import nats.errors
import numpy as np
from google.protobuf import timestamp_pb2
from nats.js.errors import KeyNotFoundError
from nats.js.kv import KeyValue

from adgen.common.v1 import common_pb2
from adgen.events.v1 import events_pb2
from adgen_export.url_cache import CachedLink
from adgen_kernel.errors import FailedPrecondition, NotFound
from adgen_kernel.jetstream import WorkContext
from adgen_kernel.logs import get_logger
from adgen_kernel.serve import Connections
from adgen_video import keys
from adgen_video.rendition_rows import (
    PublishedRendition,
    published_renditions,
    record_renditions,
    rendition_final_key,
)
from adgen_video.renditions import renditions
from adgen_video.version_rows import VersionRow, completed_version, versions_of
from adgen_video.video_metrics import observe_completed_video
from adgen_video.video_reads import status_and_run, status_for_user, status_of, version_of
from adgen_video.video_runs import mark_completed
from adgen_video.video_state import FINISHED, emit, fail_video, msg_id

log = get_logger(__name__)


def poster_jpeg(video: Path, at_s: float) -> bytes:
    """The frame at `at_s` (the middle of the opening beat: the product's best moment) as a JPEG."""
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        chosen: np.ndarray | None = None
        for frame in container.decode(stream):
            chosen = frame.to_ndarray(format="bgr24")
            if frame.time is not None and frame.time >= at_s:
                break
    if chosen is None:
        raise FailedPrecondition("the refined video has no frames")
    ok, data = cv2.imencode(".jpg", chosen, [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise FailedPrecondition("could not encode the poster")
    return data.tobytes()


class Exporter:
    def __init__(self, connections: Connections, *, url_ttl_s: int, keep_intermediates: bool, links: KeyValue) -> None:
        self._c = connections
        self._url_ttl_s = url_ttl_s
        self._keep = keep_intermediates
        self._links = links

    async def export(
        self, video_id: str, user_id: str, spec: common_pb2.Spec, refined_key: str, version: int = 1
    ) -> tuple[str, str]:
        """Publishes every rendition of the version (final, poster; the one captions file) and records
        them; returns the primary's final and poster keys. Safe to run again: what exists is kept."""
        store = self._c.store
        sidecar = keys.refined_captions_key(user_id, video_id, version)
        delivered = keys.captions_key(user_id, video_id, version)
        if not await store.exists(delivered) and await store.exists(sidecar):
            await store.copy(sidecar, delivered)
        has_captions = await store.exists(delivered)
        first = spec.beats[0].duration_s / 2 if spec.beats else 0.0
        published = []
        for position, rendition in enumerate(renditions(spec)):
            tag = rendition.tag
            refined = refined_key if rendition.primary else keys.refined_key(user_id, video_id, tag, version)
            final = keys.final_key(user_id, video_id, tag, version)
            poster = keys.poster_key(user_id, video_id, tag, version)
            await self._publish(refined, final, poster, first)
            published.append(
                PublishedRendition(
                    aspect_ratio=rendition.aspect_ratio,
                    primary=rendition.primary,
                    position=position,
                    width=rendition.output.width,
                    height=rendition.output.height,
                    final_key=final,
                    poster_key=poster,
                    captions_key=delivered if has_captions else None,
                )
            )
        async with self._c.db.acquire() as conn, conn.transaction():
            await record_renditions(conn, video_id, version, published)
        return keys.final_key(user_id, video_id, version=version), keys.poster_key(user_id, video_id, version=version)

    async def _publish(self, refined_key: str, final: str, poster: str, poster_at_s: float) -> None:
        """One rendition's final object and poster, from the refined video (or the final, if a
        previous attempt got that far and the refined one is gone)."""
        store = self._c.store
        has_final, has_poster = await store.exists(final), await store.exists(poster)
        if has_final and has_poster:
            return
        source = final if has_final else refined_key
        if not await store.exists(source):
            raise FailedPrecondition(f"the refined video {refined_key} does not exist")
        with tempfile.TemporaryDirectory(prefix="adgen-export-") as folder:
            path = Path(folder) / "video.mp4"
            await store.download_file(source, path)
            if not has_final:
                await store.put_file(final, path, "video/mp4")
            await store.put_bytes(poster, await asyncio.to_thread(poster_jpeg, path, poster_at_s), "image/jpeg")

    async def handle(self, work: events_pb2.ExportWork, _: WorkContext) -> None:
        db, js, vid = self._c.db, self._c.js, work.video_id
        current = await status_and_run(db, vid)
        if current is None:
            return
        status, run = current
        # A completed video runs again: a redelivery after a crash must still publish its completion.
        if status in FINISHED and status != "completed":
            return
        await emit(
            js,
            vid,
            msg_id(vid, run, "export:started"),
            phase_started=events_pb2.PhaseStarted(phase=common_pb2.PHASE_EXPORT),
        )
        version = await version_of(db, vid)
        final, poster = await self.export(vid, work.user_id, work.spec, work.refined_key, version)
        # Once per version, not on a redelivery; the time to a first ad is the first version's.
        if await mark_completed(db, vid, final_key=final, poster_key=poster):
            if version == 1:
                await observe_completed_video(db, vid)
        elif await status_of(db, vid) != "completed":
            # Cancelled while it exported: no completion is announced, and the chunks stay for a retry.
            return
        if not self._keep:
            tags = [r.tag for r in renditions(work.spec)]
            await self._c.store.delete(*keys.refined_keys(work.user_id, vid, tags, version))
        await emit(
            js,
            vid,
            msg_id(vid, run, "export:completed"),
            phase_completed=events_pb2.PhaseCompleted(phase=common_pb2.PHASE_EXPORT),
        )
        await emit(
            js,
            vid,
            msg_id(vid, run, "completed"),
            video_completed=events_pb2.VideoCompleted(
                final_key=final, poster_key=poster, duration_s=float(work.spec.duration_s)
            ),
        )

    async def dead_letter(self, work: events_pb2.ExportWork, error: BaseException) -> None:
        await fail_video(
            self._c.db,
            self._c.js,
            video_id=work.video_id,
            phase=common_pb2.PHASE_EXPORT,
            unit="export",
            reason=str(error),
        )

    async def download_url(
        self, video_id: str, user_id: str, aspect_ratio: str = "", version: int = 0
    ) -> tuple[str, datetime]:
        """A pre-signed link to a completed version's final video (0: the latest; the primary shape,
        or the named rendition); another user's video does not exist for the caller."""
        chosen = await self._version(video_id, user_id, version)
        name = _file_name(video_id, chosen.version)
        if not aspect_ratio:
            return await self._link(f"{video_id}.v{chosen.version}", chosen.final_key, f"{name}.mp4")
        rendition_key = await rendition_final_key(self._c.db, video_id, aspect_ratio, chosen.version)
        if rendition_key is None:
            shapes = [r.aspect_ratio for r in await published_renditions(self._c.db, video_id, chosen.version)]
            raise NotFound(f"video {video_id} has no {aspect_ratio} rendition; it has {', '.join(shapes) or 'none'}")
        tag = keys.rendition_tag(aspect_ratio)
        return await self._link(f"{video_id}.v{chosen.version}.{tag}", rendition_key, f"{name}-{tag}.mp4")

    async def renditions(self, video_id: str, user_id: str, version: int = 0) -> list[RenditionLinks]:
        """Every published rendition of a completed version (0: the latest; primary first) with
        pre-signed links; empty while the video has no completed version."""
        try:
            chosen = await self._version(video_id, user_id, version)
        except FailedPrecondition:
            return []
        name = _file_name(video_id, chosen.version)
        cached = f"{video_id}.v{chosen.version}"
        found = []
        for row in await published_renditions(self._c.db, video_id, chosen.version):
            tag = keys.rendition_tag(row.aspect_ratio)
            video = await self._link(f"{cached}.{tag}", row.final_key, f"{name}-{tag}.mp4")
            poster = await self._link(f"{cached}.{tag}.poster", row.poster_key, f"{name}-{tag}.jpg")
            captions = (
                await self._link(f"{cached}.captions", row.captions_key, f"{name}.vtt") if row.captions_key else None
            )
            found.append(
                RenditionLinks(
                    aspect_ratio=row.aspect_ratio,
                    width=row.width,
                    height=row.height,
                    primary=row.primary,
                    video=video,
                    poster=poster,
                    captions=captions,
                )
            )
        return found

    async def _version(self, video_id: str, user_id: str, version: int) -> VersionRow:
        """The completed version asked for (0: the latest): NotFound for another user's video or a
        version it does not have, FailedPrecondition while it has none completed."""
        status = await self._status(video_id, user_id)
        chosen = await completed_version(self._c.db, video_id, version)
        if chosen is not None:
            return chosen
        made = [v.version for v in await versions_of(self._c.db, video_id)]
        if not made:
            raise FailedPrecondition(f"video {video_id} is {status}; it can be downloaded once completed")
        raise NotFound(f"video {video_id} has no version {version}; it has versions {', '.join(map(str, made))}")

    async def _status(self, video_id: str, user_id: str) -> str:
        status = await status_for_user(self._c.db, user_id=user_id, video_id=video_id)
        if status is None:
            raise NotFound(f"video {video_id} not found")
        return status

    async def _link(self, cache_key: str, object_key: str, filename: str) -> tuple[str, datetime]:
        """A pre-signed GET of ``object_key``, reused from the KV under ``cache_key`` while it is
        far enough from its expiry."""
        now = datetime.now(UTC)
        try:
            cached = CachedLink.decode((await self._links.get(cache_key)).value or b"")
        except KeyNotFoundError:
            cached = None
        except (nats.errors.Error, TimeoutError) as error:  # the cache is lost or away: sign anew
            log.warning("link cache unavailable", error=repr(error))
            cached = None
        if cached is not None and cached.usable(now, self._url_ttl_s):
            return cached.url, cached.expires_at
        url = await self._c.store.presign_get(object_key, self._url_ttl_s, filename=filename)
        link = CachedLink(url, now + timedelta(seconds=self._url_ttl_s))
        try:
            await self._links.put(cache_key, link.encode())
        except (nats.errors.Error, TimeoutError) as error:
            log.warning("link not cached", error=repr(error))
        return link.url, link.expires_at


def _file_name(video_id: str, version: int) -> str:
    """What a downloaded file of the version is called, before its tag and extension."""
    return f"adgen-{video_id}" + (f"-v{version}" if version > 1 else "")


@dataclass(frozen=True)
class RenditionLinks:
    aspect_ratio: str
    width: int
    height: int
    primary: bool
    video: tuple[str, datetime]
    poster: tuple[str, datetime]
    captions: tuple[str, datetime] | None


def to_timestamp(moment: datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(moment)
    return stamp
