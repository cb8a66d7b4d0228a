"""Shared kernel: settings, telemetry, logging, serve lifecycle, JetStream, storage and DB helpers."""
