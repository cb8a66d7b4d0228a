"""The CLIP embedder with randomly initialised weights: the real model code, no download."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
from PIL import Image

from adgen_assets.embeddings import DIMENSIONS, ClipEmbedder, load_embedder, resolve_weights
from adgen_assets.settings import AssetsSettings

SETTINGS: dict[str, Any] = {
    "nats_url": "nats://127.0.0.1:1",
    "database_url": "postgresql://x@127.0.0.1:1/x",
    "s3_endpoint": "http://127.0.0.1:1",
    "s3_access_key": "k",
    "s3_secret_key": "s",
}


@pytest.fixture(scope="module")
def embedder() -> ClipEmbedder:
    model, reason = load_embedder(AssetsSettings(**SETTINGS, clip_random_weights=True))
    assert model is not None, reason
    return model


def png(color: tuple[int, int, int], size: tuple[int, int] = (96, 64)) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", size, color)
    image.paste((255 - color[0], 40, 90), (10, 10, 40, 30))
    image.save(out, "PNG")
    return out.getvalue()


def test_image_embeddings_are_512_unit_vectors(embedder: ClipEmbedder) -> None:
    vectors = embedder.embed_images([png((200, 30, 30)), png((20, 200, 30), (300, 500))])
    assert vectors.shape == (2, DIMENSIONS)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert not np.allclose(vectors[0], vectors[1])


def test_text_embeddings_are_512_unit_vectors(embedder: ClipEmbedder) -> None:
    vectors = embedder.embed_texts(["a matte-black titanium watch", "trail running sneakers", "x" * 2000])
    assert vectors.shape == (3, DIMENSIONS)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_a_batch_gives_the_same_vectors_as_one_at_a_time(embedder: ClipEmbedder) -> None:
    images = [png((i * 7 % 256, i * 31 % 256, i * 57 % 256)) for i in range(5)]
    texts = [f"product photo number {i}" for i in range(5)]
    np.testing.assert_allclose(
        embedder.embed_images(images), np.concatenate([embedder.embed_images([i]) for i in images]), atol=1e-4
    )
    np.testing.assert_allclose(
        embedder.embed_texts(texts), np.concatenate([embedder.embed_texts([t]) for t in texts]), atol=1e-4
    )


def test_nothing_in_nothing_out(embedder: ClipEmbedder) -> None:
    assert embedder.embed_images([]).shape == (0, DIMENSIONS)
    assert embedder.embed_texts([]).shape == (0, DIMENSIONS)


def test_the_model_is_loaded_once_per_process(embedder: ClipEmbedder) -> None:
    again, _ = load_embedder(AssetsSettings(**SETTINGS, clip_random_weights=True))
    assert again is embedder


def test_no_weights_means_no_model_and_says_why(tmp_path) -> None:
    assert load_embedder(AssetsSettings(**SETTINGS)) == (None, "ADGEN_CLIP_PRETRAINED is empty")
    unknown = resolve_weights("ViT-B-32", "no-such-tag")
    assert unknown.path is None and "neither a file nor a pretrained tag" in unknown.reason
    # A real tag that is not in the caches is refused instead of downloaded.
    uncached = resolve_weights("ViT-B-32", "openai", hf_cache=str(tmp_path / "hf"), url_cache=tmp_path / "clip")
    assert uncached.path is None and "not in the local cache" in uncached.reason
    (tmp_path / "clip").mkdir()
    cached_file = tmp_path / "clip" / "ViT-B-32.pt"
    cached_file.write_bytes(b"0")
    cached = resolve_weights("ViT-B-32", "openai", hf_cache=str(tmp_path / "hf"), url_cache=tmp_path / "clip")
    assert cached.path == str(cached_file) and cached.quick_gelu
    weights = tmp_path / "clip.pt"
    weights.write_bytes(b"0")
    assert resolve_weights("ViT-B-32", str(weights)).path == str(weights)
