"""Where every artifact lives in the bucket: one function per object, so no key is spelled twice."""

from __future__ import annotations


def video_prefix(user_id: str, video_id: str) -> str:
    return f"{user_id}/videos/{video_id}/"


def _take(take: int) -> str:
    """A unit made again (a frame drawn again at a gate, a unit an edit redoes) is an object of its own."""
    return f"_take{take}" if take else ""


def storyboard_key(user_id: str, video_id: str, beat_index: int, take: int = 0) -> str:
    """The beat's storyboard image, of its take (a regeneration at a gate, or an edit's)."""
    return f"{video_prefix(user_id, video_id)}storyboard/beat_{beat_index:02d}{_take(take)}.png"


def voice_key(user_id: str, video_id: str, beat_index: int, take: int = 0) -> str:
    """The beat's spoken line as a WAV, kept with the video (refine mixes it, captions follow it)."""
    return f"{video_prefix(user_id, video_id)}voice/beat_{beat_index:02d}{_take(take)}.wav"


def voice_words_key(user_id: str, video_id: str, beat_index: int, take: int = 0) -> str:
    """When each word of the beat's line is spoken (JSON), stored with the line for the captions."""
    return f"{video_prefix(user_id, video_id)}voice/beat_{beat_index:02d}{_take(take)}.json"


def chunks_prefix(user_id: str, video_id: str) -> str:
    return f"{video_prefix(user_id, video_id)}chunks/"


def chunk_key(user_id: str, video_id: str, chunk_index: int, take: int = 0) -> str:
    return f"{chunks_prefix(user_id, video_id)}chunk_{chunk_index:03d}{_take(take)}.mp4"


def handoff_key(user_id: str, video_id: str, chunk_index: int, take: int = 0) -> str:
    return f"{chunks_prefix(user_id, video_id)}chunk_{chunk_index:03d}{_take(take)}_handoff.png"


def music_key(user_id: str, video_id: str) -> str:
    """A music bed downloaded from a provider, kept until export so a redelivered refine reuses it."""
    return f"{chunks_prefix(user_id, video_id)}music.audio"


def music_prediction_key(user_id: str, video_id: str) -> str:
    """The id of the provider prediction making the music bed, written as soon as it exists."""
    return f"{chunks_prefix(user_id, video_id)}music.prediction"


# Renditions: the primary shape of a video has the plain names; every further shape gets its own
# objects, tagged with the shape (``rendition_tag``): final.mp4 and final_9x16.mp4. Each version after
# the first has its own objects too, tagged with its number: final_v2.mp4 and final_v2_9x16.mp4.


def rendition_tag(aspect_ratio: str) -> str:
    """The file-name tag of a further rendition: "9:16" -> "9x16"."""
    return aspect_ratio.replace(":", "x")


def _tagged(stem: str, tag: str, extension: str, version: int) -> str:
    parts = [stem, *([f"v{version}"] if version > 1 else []), *([tag] if tag else [])]
    return f"{'_'.join(parts)}.{extension}"


def refined_key(user_id: str, video_id: str, tag: str = "", version: int = 1) -> str:
    return f"{chunks_prefix(user_id, video_id)}{_tagged('refined', tag, 'mp4', version)}"


def refined_captions_key(user_id: str, video_id: str, version: int = 1) -> str:
    """The captions sidecar refine leaves beside the version's refined video, for export to deliver."""
    return f"{chunks_prefix(user_id, video_id)}{_tagged('captions', '', 'vtt', version)}"


def refined_keys(user_id: str, video_id: str, tags: list[str], version: int = 1) -> list[str]:
    """What refine writes for a version and export deletes once the version is published: its
    refined videos (one per rendition tag) and their captions sidecar. The clips, hand-off frames,
    lines and music stay: a later version is made from them."""
    return [
        *(refined_key(user_id, video_id, tag, version) for tag in tags),
        refined_captions_key(user_id, video_id, version),
    ]


def final_key(user_id: str, video_id: str, tag: str = "", version: int = 1) -> str:
    return f"{video_prefix(user_id, video_id)}{_tagged('final', tag, 'mp4', version)}"


def poster_key(user_id: str, video_id: str, tag: str = "", version: int = 1) -> str:
    return f"{video_prefix(user_id, video_id)}{_tagged('poster', tag, 'jpg', version)}"


def captions_key(user_id: str, video_id: str, version: int = 1) -> str:
    """The delivered WebVTT sidecar of a version, next to its final video."""
    return f"{video_prefix(user_id, video_id)}{_tagged('captions', '', 'vtt', version)}"


def asset_key(user_id: str, filename: str) -> str:
    return f"{user_id}/assets/{filename}"
