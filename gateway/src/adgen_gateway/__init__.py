"""Gateway: REST, SSE and the video gRPC API."""
