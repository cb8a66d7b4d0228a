"""A phase's domain object (Storyboard, Chunks) on the session stack's infrastructure, with no worker
or servicer of its own: the stack's service keeps the queue, the test calls the object directly and
stands in for workers that die or take a unit over."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from conftest import Stack, base_settings

from adgen.assets.v1 import assets_service_pb2_grpc
from adgen_chunks.providers import ClipProviders, StudioClips
from adgen_chunks.replicate_video import ReplicateVideo, ReplicateVideoConfig
from adgen_chunks.settings import ChunksSettings
from adgen_chunks.worker import Chunks
from adgen_kernel.serve import Connections, ServiceApp, grpc_channel, start_service
from adgen_kernel.settings import ServiceSettings
from adgen_storyboard.providers import ImageProvider
from adgen_storyboard.settings import StoryboardSettings
from adgen_storyboard.worker import Storyboard

T = TypeVar("T")
Closers = list[Callable[[], Awaitable[None]]]


@contextlib.asynccontextmanager
async def _driven(
    name: str, settings: ServiceSettings, make: Callable[[Connections], tuple[T, Closers]]
) -> AsyncIterator[T]:
    built: list[T] = []

    async def factory(connections: Connections) -> ServiceApp:
        thing, on_close = make(connections)
        built.append(thing)
        return ServiceApp(on_close=on_close)

    running = await start_service(name, settings, factory)
    try:
        yield built[0]
    finally:
        await running.stop()


@contextlib.asynccontextmanager
async def driven_storyboard(
    stack: Stack, images: ImageProvider, name: str = "storyboard-under-test"
) -> AsyncIterator[Storyboard]:
    settings = StoryboardSettings(**base_settings(stack.endpoints), assets_addr=stack.address("assets"))

    def make(connections: Connections) -> tuple[Storyboard, Closers]:
        channel = grpc_channel(stack.address("assets"))
        storyboard = Storyboard(connections, assets_service_pb2_grpc.AssetsServiceStub(channel), images)
        return storyboard, [channel.close, images.aclose]

    async with _driven(name, settings, make) as storyboard:
        yield storyboard


@contextlib.asynccontextmanager
async def driven_chunks(
    stack: Stack, replicate: ReplicateVideoConfig, name: str = "chunks-under-test"
) -> AsyncIterator[Chunks]:
    """Chunks with the studio animator and Replicate (`replicate`: the fake's address and timings)."""

    def make(connections: Connections) -> tuple[Chunks, Closers]:
        providers = ClipProviders(StudioClips(), ReplicateVideo(replicate))
        return Chunks(connections, providers), [providers.aclose]

    async with _driven(name, ChunksSettings(**base_settings(stack.endpoints)), make) as chunks:
        yield chunks
