"""CLIP image and text embeddings: 512 numbers per item, L2-normalised so that cosine similarity is a
dot product, on the CPU, one model per process.

Weights are only ever read from this machine — a file path, or a pretrained tag that is already in
the open_clip / Hugging Face cache — because a service must not stall at start-up on a download it
cannot make. Without weights the service still takes uploads; search says it cannot answer.

torch and open_clip are imported only when a model is built: a process without weights (and every
test session that merely imports the service) does not pay seconds of import time for nothing.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from adgen_assets.settings import AssetsSettings

DIMENSIONS = 512
BATCH = 32
OPENCLIP_CACHE = Path.home() / ".cache" / "clip"


@dataclass(frozen=True)
class Weights:
    """Where the weights come from; `path` is None when there are none (and `reason` says why)."""

    path: str | None
    reason: str
    quick_gelu: bool = False


def resolve_weights(
    model_name: str, pretrained: str, hf_cache: str | None = None, url_cache: Path = OPENCLIP_CACHE
) -> Weights:
    """A local weights file for `pretrained`, never a download (the caches default to open_clip's own)."""
    if not pretrained:
        return Weights(None, "ADGEN_CLIP_PRETRAINED is empty")
    if os.path.isfile(pretrained):
        return Weights(pretrained, f"file {pretrained}")
    import open_clip

    config = open_clip.get_pretrained_cfg(model_name, pretrained)
    if not config:
        return Weights(None, f"{pretrained!r} is neither a file nor a pretrained tag of {model_name}")
    quick_gelu = bool(config.get("quick_gelu", False))
    for candidate in _cached_files(config, hf_cache, url_cache):
        if os.path.isfile(candidate):
            return Weights(candidate, f"cached {model_name}/{pretrained}", quick_gelu)
    return Weights(None, f"{model_name}/{pretrained} is not in the local cache and nothing is downloaded at run time")


def _cached_files(config: dict, hf_cache: str | None, url_cache: Path) -> list[str]:
    """Where open_clip would have stored this tag's weights: the Hugging Face cache, or its URL cache."""
    files: list[str] = []
    if config.get("hf_hub"):
        from huggingface_hub import try_to_load_from_cache

        # "org/model/" means the default file name; "org/model/file.bin" names the file.
        repo_id, filename = os.path.split(config["hf_hub"])
        for name in ("open_clip_model.safetensors", filename or "open_clip_pytorch_model.bin"):
            found = try_to_load_from_cache(repo_id, name, cache_dir=hf_cache)
            if isinstance(found, str):
                files.append(found)
    if config.get("url"):
        files.append(str(url_cache / os.path.basename(config["url"])))
    return files


class ClipEmbedder:
    """One loaded model; callers batch through `embed_images` / `embed_texts` (thread-safe)."""

    def __init__(self, model_name: str, weights_path: str | None, quick_gelu: bool = False) -> None:
        import open_clip
        import torch

        self._torch = torch
        self.model_name = model_name
        model, _, preprocess = open_clip.create_model_and_transforms(
            model_name, pretrained=weights_path, device="cpu", force_quick_gelu=quick_gelu
        )
        self._model = model.eval()
        self._preprocess = preprocess
        self._tokenizer = open_clip.get_tokenizer(model_name)
        self._lock = threading.Lock()  # one forward pass at a time; torch already uses every core
        dims = int(self._model.text_projection.shape[1])
        if dims != DIMENSIONS:
            raise ValueError(
                f"ADGEN_CLIP_MODEL: {model_name} has {dims}-dim embeddings, the schema stores {DIMENSIONS}"
            )

    def embed_images(self, images: Sequence[bytes]) -> np.ndarray:
        """(n, 512) float32 unit vectors for encoded images (any format Pillow reads)."""
        if not images:
            return np.zeros((0, DIMENSIONS), np.float32)
        rows = []
        for start in range(0, len(images), BATCH):
            pixels = self._torch.stack(
                [
                    self._preprocess(Image.open(io.BytesIO(data)).convert("RGB"))
                    for data in images[start : start + BATCH]
                ]
            )
            with self._lock, self._torch.inference_mode():
                rows.append(self._model.encode_image(pixels, normalize=True).float().numpy())
        return np.concatenate(rows)

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """(n, 512) float32 unit vectors for texts (longer than the context are cut)."""
        if not texts:
            return np.zeros((0, DIMENSIONS), np.float32)
        rows = []
        for start in range(0, len(texts), BATCH):
            tokens = self._tokenizer(list(texts[start : start + BATCH]))
            with self._lock, self._torch.inference_mode():
                rows.append(self._model.encode_text(tokens, normalize=True).float().numpy())
        return np.concatenate(rows)


_loaded: dict[tuple[str, str | None, bool], ClipEmbedder] = {}
_loading = threading.Lock()


def load_embedder(settings: AssetsSettings) -> tuple[ClipEmbedder | None, str]:
    """The process's embedder for these settings (loaded once), or None and why there is none."""
    if settings.clip_random_weights:
        weights = Weights(None, "random weights (ADGEN_CLIP_RANDOM_WEIGHTS, tests only)")
    else:
        weights = resolve_weights(settings.clip_model, settings.clip_pretrained)
        if weights.path is None:
            return None, weights.reason
    key = (settings.clip_model, weights.path, settings.clip_random_weights)
    with _loading:
        if key not in _loaded:
            if settings.clip_random_weights:
                import torch

                torch.manual_seed(0)  # the same random model in every process, so tests can compare vectors
            _loaded[key] = ClipEmbedder(settings.clip_model, weights.path, weights.quick_gelu)
    return _loaded[key], weights.reason
