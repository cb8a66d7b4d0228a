"""Where every artifact lives in the bucket: one function per object, so no key is spelled twice."""

from __future__ import annotations


def video_prefix(user_id: str, video_id: str) -> str:
    return f"{user_id}/videos/{video_id}/"


def storyboard_key(user_id: str, video_id: str, beat_index: int, take: int = 0) -> str:
    """The beat's storyboard image; a regeneration at a review gate (take n > 0) is an object of its own."""
    suffix = f"_take{take}" if take else ""
    return f"{video_prefix(user_id, video_id)}storyboard/beat_{beat_index:02d}{suffix}.png"


def voice_key(user_id: str, video_id: str, beat_index: int) -> str:
    """The beat's spoken line as a WAV, kept with the video (refine mixes it, captions follow it)."""
    return f"{video_prefix(user_id, video_id)}voice/beat_{beat_index:02d}.wav"


def voice_words_key(user_id: str, video_id: str, beat_index: int) -> str:
    """When each word of the beat's line is spoken (JSON), stored with the line for the captions."""
    return f"{video_prefix(user_id, video_id)}voice/beat_{beat_index:02d}.json"


def chunks_prefix(user_id: str, video_id: str) -> str:
    return f"{video_prefix(user_id, video_id)}chunks/"


def chunk_key(user_id: str, video_id: str, chunk_index: int) -> str:
    return f"{chunks_prefix(user_id, video_id)}chunk_{chunk_index:03d}.mp4"


def handoff_key(user_id: str, video_id: str, chunk_index: int) -> str:
    return f"{chunks_prefix(user_id, video_id)}chunk_{chunk_index:03d}_handoff.png"


def music_key(user_id: str, video_id: str) -> str:
    """A music bed downloaded from a provider, kept until export so a redelivered refine reuses it."""
    return f"{chunks_prefix(user_id, video_id)}music.audio"


def music_prediction_key(user_id: str, video_id: str) -> str:
    """The id of the provider prediction making the music bed, written as soon as it exists."""
    return f"{chunks_prefix(user_id, video_id)}music.prediction"


# Renditions: the primary shape of a video has the plain names; every further shape gets its own
# objects, tagged with the shape (``rendition_tag``): final.mp4 and final_9x16.mp4.


def rendition_tag(aspect_ratio: str) -> str:
    """The file-name tag of a further rendition: "9:16" -> "9x16"."""
    return aspect_ratio.replace(":", "x")


def _tagged(stem: str, tag: str, extension: str) -> str:
    return f"{stem}_{tag}.{extension}" if tag else f"{stem}.{extension}"


def refined_key(user_id: str, video_id: str, tag: str = "") -> str:
    return f"{chunks_prefix(user_id, video_id)}{_tagged('refined', tag, 'mp4')}"


def final_key(user_id: str, video_id: str, tag: str = "") -> str:
    return f"{video_prefix(user_id, video_id)}{_tagged('final', tag, 'mp4')}"


def poster_key(user_id: str, video_id: str, tag: str = "") -> str:
    return f"{video_prefix(user_id, video_id)}{_tagged('poster', tag, 'jpg')}"


def asset_key(user_id: str, filename: str) -> str:
    return f"{user_id}/assets/{filename}"
