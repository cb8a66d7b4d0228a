"""Chunks service: chunk plans, the animator and image-to-video providers."""
