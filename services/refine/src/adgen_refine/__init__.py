"""Refine service: stitching, grading, music and the final encode."""
