"""The export service's work: the final object, poster and captions, the video marked completed,
clean-up, and short-lived download links.

* The final video is uploaded from the file the poster is cut from (one download either way), with
  boto3's transfer manager: multipart above 8 MiB, so size is never a limit (a single-request copy
  stops at 5 GB).
* Intermediates (chunks, hand-off frames, the refined video and its sidecar) are deleted only after
  the video row says completed, unless ``ADGEN_KEEP_INTERMEDIATES`` is set.
* The cost breakdown is not stored here: it is the ledger query that the status read runs.
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath

import av
import cv2
import numpy as np
from google.protobuf import timestamp_pb2
from nats.js.errors import KeyNotFoundError
from nats.js.kv import KeyValue

from adgen.common.v1 import common_pb2
from adgen.events.v1 import events_pb2
from adgen_export.url_cache import CachedLink
from adgen_kernel import keys
from adgen_kernel.errors import FailedPrecondition, NotFound
from adgen_kernel.jetstream import WorkContext
from adgen_kernel.metrics import observe_completed_video
from adgen_kernel.serve import Connections
from adgen_kernel.video_state import FINISHED, emit, fail_video

CAPTIONS_NAME = "captions.vtt"


def captions_key(user_id: str, video_id: str) -> str:
    """The delivered WebVTT sidecar, next to final.mp4."""
    return f"{keys.video_prefix(user_id, video_id)}{CAPTIONS_NAME}"


def refined_captions_key(refined_key: str) -> str:
    """Where refine leaves the sidecar: beside the refined video."""
    return str(PurePosixPath(refined_key).with_name(CAPTIONS_NAME))


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

    async def export(self, video_id: str, user_id: str, spec: common_pb2.Spec, refined_key: str) -> tuple[str, str]:
        store = self._c.store
        final, poster = keys.final_key(user_id, video_id), keys.poster_key(user_id, video_id)
        has_final, has_poster = await store.exists(final), await store.exists(poster)
        if not (has_final and has_poster):
            source = final if has_final else refined_key
            if not await store.exists(source):
                raise FailedPrecondition(f"the refined video {refined_key} does not exist")
            with tempfile.TemporaryDirectory(prefix="adgen-export-") as folder:
                path = Path(folder) / "video.mp4"
                await store.download_file(source, path)
                if not has_final:
                    await store.put_file(final, path, "video/mp4")
                first = spec.beats[0].duration_s / 2 if spec.beats else 0.0
                await store.put_bytes(poster, await asyncio.to_thread(poster_jpeg, path, first), "image/jpeg")
        sidecar, delivered = refined_captions_key(refined_key), captions_key(user_id, video_id)
        if not await store.exists(delivered) and await store.exists(sidecar):
            await store.copy(sidecar, delivered)
        return final, poster

    async def handle(self, work: events_pb2.ExportWork, _: WorkContext) -> None:
        db, js, vid = self._c.db, self._c.js, work.video_id
        status = await db.fetchval("SELECT status FROM videos WHERE video_id = $1", vid)
        # A completed video runs again: a redelivery after a crash must still publish its completion.
        if status is None or (status in FINISHED and status != "completed"):
            return
        await emit(
            js, vid, f"{vid}:export:started", phase_started=events_pb2.PhaseStarted(phase=common_pb2.PHASE_EXPORT)
        )
        final, poster = await self.export(vid, work.user_id, work.spec, work.refined_key)
        marked = await db.execute(
            "UPDATE videos SET status = 'completed', final_key = $2, poster_key = $3, completed_at = now(),"
            " updated_at = now() WHERE video_id = $1 AND status NOT IN ('completed', 'cancelled')",
            vid,
            final,
            poster,
        )
        if marked == "UPDATE 1":  # once per video, not again on a redelivery
            await observe_completed_video(db, vid)
        if not self._keep:
            await self._c.store.delete_prefix(keys.chunks_prefix(work.user_id, vid))
        await emit(
            js, vid, f"{vid}:export:completed", phase_completed=events_pb2.PhaseCompleted(phase=common_pb2.PHASE_EXPORT)
        )
        await emit(
            js,
            vid,
            f"{vid}:completed",
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

    async def download_url(self, video_id: str, user_id: str) -> tuple[str, datetime]:
        """A pre-signed link to the final video; another user's video does not exist for the caller."""
        row = await self._c.db.fetchrow(
            "SELECT status, final_key FROM videos WHERE video_id = $1 AND user_id = $2", video_id, user_id
        )
        if row is None:
            raise NotFound(f"video {video_id} not found")
        if row["status"] != "completed" or not row["final_key"]:
            raise FailedPrecondition(f"video {video_id} is {row['status']}; it can be downloaded once completed")
        now = datetime.now(UTC)
        try:
            cached = CachedLink.decode((await self._links.get(video_id)).value or b"")
        except KeyNotFoundError:
            cached = None
        if cached is not None and cached.usable(now, self._url_ttl_s):
            return cached.url, cached.expires_at
        url = await self._c.store.presign_get(row["final_key"], self._url_ttl_s, filename=f"adgen-{video_id}.mp4")
        link = CachedLink(url, now + timedelta(seconds=self._url_ttl_s))
        await self._links.put(video_id, link.encode())
        return link.url, link.expires_at


def to_timestamp(moment: datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(moment)
    return stamp
