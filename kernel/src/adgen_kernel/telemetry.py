"""OpenTelemetry tracing: one trace per video across gRPC calls and JetStream hops.

The exporter follows the standard variables: OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set,
nothing otherwise. Tests pass their own span processor (an in-memory exporter).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

_provider: TracerProvider | None = None


def setup_tracing(service: str, *, processor: SpanProcessor | None = None) -> TracerProvider:
    """Installs the process's tracer provider once; later calls return the same provider."""
    global _provider
    if _provider is not None:
        if processor is not None:
            _provider.add_span_processor(processor)
        return _provider
    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", service)})
    provider = TracerProvider(resource=resource)
    if processor is not None:
        provider.add_span_processor(processor)
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    _provider = provider
    return provider


def flush_tracing() -> None:
    if _provider is not None:
        _provider.force_flush()


def inject_headers(headers: MutableMapping[str, str] | None = None) -> dict[str, str]:
    """W3C trace context of the current span, for NATS message headers."""
    carrier: dict[str, str] = dict(headers or {})
    propagate.inject(carrier)
    return carrier


def extract_context(headers: Mapping[str, str] | None) -> Context:
    return propagate.extract(dict(headers or {}))
