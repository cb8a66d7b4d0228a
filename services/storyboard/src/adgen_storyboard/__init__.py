"""Storyboard service: one image per beat."""
