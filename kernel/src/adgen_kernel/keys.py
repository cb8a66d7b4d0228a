"""Where every artifact lives in the bucket: one function per object, so no key is spelled twice."""

from __future__ import annotations


def video_prefix(user_id: str, video_id: str) -> str:
    return f"{user_id}/videos/{video_id}/"


def storyboard_key(user_id: str, video_id: str, beat_index: int) -> str:
    return f"{video_prefix(user_id, video_id)}storyboard/beat_{beat_index:02d}.png"


def chunks_prefix(user_id: str, video_id: str) -> str:
    return f"{video_prefix(user_id, video_id)}chunks/"


def chunk_key(user_id: str, video_id: str, chunk_index: int) -> str:
    return f"{chunks_prefix(user_id, video_id)}chunk_{chunk_index:03d}.mp4"


def handoff_key(user_id: str, video_id: str, chunk_index: int) -> str:
    return f"{chunks_prefix(user_id, video_id)}chunk_{chunk_index:03d}_handoff.png"


def refined_key(user_id: str, video_id: str) -> str:
    return f"{chunks_prefix(user_id, video_id)}refined.mp4"


def final_key(user_id: str, video_id: str) -> str:
    return f"{video_prefix(user_id, video_id)}final.mp4"


def poster_key(user_id: str, video_id: str) -> str:
    return f"{video_prefix(user_id, video_id)}poster.jpg"


def asset_key(user_id: str, filename: str) -> str:
    return f"{user_id}/assets/{filename}"
