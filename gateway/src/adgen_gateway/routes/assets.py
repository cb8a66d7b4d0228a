"""REST: /v1/assets — upload product images and logos, keep a library of them, find them by text or
by likeness. Everything is the caller's own: another user's asset is not found."""

from __future__ import annotations

import uuid
from datetime import UTC
from typing import Annotated

import grpc
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.types import Scope

from adgen.assets.v1 import assets_service_pb2 as pb
from adgen_gateway.api_docs import links, problems
from adgen_gateway.auth import User
from adgen_gateway.clients.assets import Upload
from adgen_gateway.dependencies import Backends, backends, current_user
from adgen_gateway.errors import Problem, from_grpc
from adgen_gateway.form_stream import FormStream, MalformedForm, PartData, PartEnd, PartStart
from adgen_gateway.text_fields import OneLineText
from adgen_video.asset_limits import MAX_BYTES, MAX_PIXELS, NAME_MAX_CHARS
from adgen_video.request_limits import FieldError

router = APIRouter(prefix="/v1/assets", tags=["assets"])

# Bytes of the form around the file (boundaries, part headers, a name field): a body whose declared
# length exceeds the file limit by more than this cannot carry an acceptable file.
FORM_OVERHEAD = 64 * 1024
# Bytes per UploadAsset message.
CHUNK = 256 * 1024
TOO_LARGE = f"file: larger than {MAX_BYTES // (1024 * 1024)} MB; send a smaller image"


class AssetUrls(BaseModel):
    original: str = Field(description="Pre-signed GET link to the stored image (EXIF-rotated, metadata stripped)")
    thumbnail: str = Field(description="Pre-signed GET link to the 400x400 JPEG thumbnail")
    edges: str = Field(description="Pre-signed GET link to the Canny edge map (PNG)")


class AssetOut(BaseModel):
    asset_id: str
    name: str = Field(description="Display name: the uploaded filename unless renamed")
    source: str = Field(description="USER_UPLOAD or GENERATED")
    content_type: str
    width: int
    height: int
    created_at: str = Field(description="RFC 3339")
    embedded: bool = Field(description="True once semantic search can find it")
    urls: AssetUrls = Field(description="Links valid for one hour")


class NearDuplicate(BaseModel):
    asset_id: str
    score: float


class UploadedAsset(AssetOut):
    near_duplicates: list[NearDuplicate] = Field(
        description="Your assets that look the same (cosine similarity >= 0.95); empty without CLIP weights"
    )


class AssetPage(BaseModel):
    assets: list[AssetOut]
    next_page_token: str | None


class ScoredAsset(BaseModel):
    asset: AssetOut
    score: float = Field(description="Cosine similarity, -1..1")


class SearchResults(BaseModel):
    results: list[ScoredAsset]


class RenameBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: OneLineText = Field(min_length=1, max_length=NAME_MAX_CHARS, description="The new display name")


class RecommendBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    asset_ids: list[uuid.UUID] = Field(min_length=1, max_length=100, description="The selection to match")
    limit: int = Field(10, ge=1, le=100)


def streams_its_body(scope: Scope) -> bool:
    """The upload reads its body as it arrives and enforces its own limit (the file's)."""
    return scope["method"] == "POST" and scope["path"] == router.prefix


def asset_json(asset: pb.Asset) -> AssetOut:
    return AssetOut(
        asset_id=asset.asset_id,
        name=asset.name,
        source=pb.AssetSource.Name(asset.source).removeprefix("ASSET_SOURCE_"),
        content_type=asset.content_type,
        width=asset.width,
        height=asset.height,
        created_at=asset.created_at.ToDatetime(tzinfo=UTC).isoformat(),
        embedded=asset.embedded,
        urls=AssetUrls(original=asset.urls.original, thumbnail=asset.urls.thumbnail, edges=asset.urls.edges),
    )


def results_json(results: list[pb.ScoredAsset]) -> SearchResults:
    return SearchResults(results=[ScoredAsset(asset=asset_json(r.asset), score=r.score) for r in results])


def field_problem(error: grpc.aio.AioRpcError, default_field: str) -> Problem:
    """The service's answer, naming the field its message starts with ("name: ...") or `default_field`."""
    problem = from_grpc(error)
    if error.code() == grpc.StatusCode.INVALID_ARGUMENT:
        field, sep, message = problem.detail.partition(": ")
        if not sep or not field.isidentifier():
            field, message = default_field, problem.detail
        problem.errors = [FieldError(field, message)]
    return problem


def _file_problem(status: int, message: str) -> Problem:
    return Problem(status, f"file: {message}", errors=[FieldError("file", message)])


@router.post(
    "",
    status_code=201,
    summary="Upload a product image or logo (PNG, JPEG or WebP)",
    description="`multipart/form-data` with the image in `file` and, optionally, a display name in `name` "
    f"(default: the filename). At most {MAX_BYTES // (1024 * 1024)} MB and {MAX_PIXELS // 1_000_000} megapixels; "
    "the type is read from the bytes, not the filename. The image is stored EXIF-rotated without metadata, with a "
    "400x400 thumbnail and a Canny edge map.",
    response_model=UploadedAsset,
    responses={
        201: {
            "description": "Stored",
            "links": links(
                "/asset_id",
                {
                    "GetAsset": ("GET", "/v1/assets/{asset_id}"),
                    "RenameAsset": ("PATCH", "/v1/assets/{asset_id}"),
                    "SimilarAssets": ("GET", "/v1/assets/{asset_id}/similar"),
                    "DeleteAsset": ("DELETE", "/v1/assets/{asset_id}"),
                },
            ),
        },
        **problems(400, 415),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {
                            "file": {"type": "string", "format": "binary"},
                            "name": {"type": "string", "maxLength": NAME_MAX_CHARS},
                        },
                    }
                }
            },
        }
    },
)
async def upload(
    request: Request, user: Annotated[User, Depends(current_user)], b: Annotated[Backends, Depends(backends)]
) -> UploadedAsset:
    try:
        form = FormStream(request.headers.get("content-type"))
    except MalformedForm as error:
        raise _file_problem(415, str(error)) from None
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BYTES + FORM_OVERHEAD:
        raise _file_problem(413, TOO_LARGE.removeprefix("file: "))
    call: Upload | None = None
    current = ""
    name = bytearray()
    name_sent = False
    seen_name = False
    size = 0
    pending = bytearray()
    try:
        async for chunk in request.stream():
            try:
                events = form.feed(chunk)
            except MalformedForm as error:
                raise _file_problem(400, str(error)) from None
            for event in events:
                if isinstance(event, PartStart):
                    current = event.name
                    if current == "file":
                        if call is not None:
                            raise _file_problem(422, "send one file per upload")
                        name_sent = bool(name)
                        call = b.assets.start_upload(
                            pb.UploadAssetMetadata(
                                user_id=user.user_id,
                                filename=event.filename or "upload",
                                name=name.decode(errors="replace"),
                            )
                        )
                    elif current == "name" and seen_name:
                        raise Problem(422, "name: send it once", errors=[FieldError("name", "sent more than once")])
                    elif current == "name":
                        seen_name = True
                    else:
                        raise Problem(
                            422,
                            f"{current[:64]}: unknown field; send 'file' and optionally 'name'",
                            errors=[FieldError(current[:64], "unknown field")],
                        )
                elif isinstance(event, PartData) and current == "file" and call is not None:
                    size += len(event.data)
                    if size > MAX_BYTES:
                        raise _file_problem(413, TOO_LARGE.removeprefix("file: "))
                    pending.extend(event.data)
                    if len(pending) >= CHUNK:
                        await call.send(bytes(pending))
                        pending.clear()
                elif isinstance(event, PartData) and current == "name":
                    name.extend(event.data)
                    if len(name) > 4 * NAME_MAX_CHARS:
                        raise Problem(422, "name: too long", errors=[FieldError("name", "too long")])
                elif isinstance(event, PartEnd):
                    current = ""
        if not form.ended:
            raise _file_problem(400, "the multipart body ended early")
        if call is None:
            raise Problem(
                422, "file: required; send the image in the 'file' field", errors=[FieldError("file", "required")]
            )
        if pending:
            await call.send(bytes(pending))
        response = await call.finish()
    except grpc.aio.AioRpcError as error:
        raise field_problem(error, "file") from None
    except BaseException:
        if call is not None:
            call.cancel()  # the service drops what it received: nothing is stored
        raise
    asset = response.asset
    if name and not name_sent:
        # The name came after the file: apply it now, and undo the upload if it cannot be used.
        try:
            asset = await b.assets.rename(user.user_id, asset.asset_id, name.decode(errors="replace"))
        except grpc.aio.AioRpcError as error:
            await b.assets.delete(user.user_id, asset.asset_id)
            raise field_problem(error, "name") from None
    out = asset_json(asset)
    return UploadedAsset(
        **out.model_dump(),
        near_duplicates=[NearDuplicate(asset_id=d.asset_id, score=d.score) for d in response.near_duplicates],
    )


@router.get("", summary="Your assets, newest first", response_model=AssetPage)
async def list_assets(
    user: Annotated[User, Depends(current_user)],
    b: Annotated[Backends, Depends(backends)],
    page_size: Annotated[int, Query(ge=1, le=100, description="Assets per page")] = 50,
    page_token: Annotated[str, Query(max_length=512, description="next_page_token of the previous page")] = "",
) -> AssetPage:
    try:
        response = await b.assets.list(user.user_id, page_size, page_token)
    except grpc.aio.AioRpcError as error:
        raise field_problem(error, "page_token") from None
    return AssetPage(assets=[asset_json(a) for a in response.assets], next_page_token=response.next_page_token or None)


@router.get(
    "/search",
    summary="Your images that match a text (CLIP), best first",
    description="503 when the assets service has no CLIP weights: it never guesses.",
    response_model=SearchResults,
    responses=problems(400),
)
async def search(
    user: Annotated[User, Depends(current_user)],
    b: Annotated[Backends, Depends(backends)],
    q: Annotated[OneLineText, Query(min_length=1, max_length=1000, description="What to look for")],
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    min_score: Annotated[
        float, Query(ge=-1.0, le=1.0, allow_inf_nan=False, description="Drop results scoring below it")
    ] = 0.25,
) -> SearchResults:
    if not q.strip():
        raise Problem(422, "q: must not be blank", errors=[FieldError("q", "must not be blank")])
    try:
        return results_json(await b.assets.search(user.user_id, q, limit, min_score))
    except grpc.aio.AioRpcError as error:
        raise field_problem(error, "q") from None


@router.post(
    "/recommendations",
    summary="Your images in the style of a selection (nearest to its centroid), the selection excluded",
    description="503 when the assets service has no CLIP weights.",
    response_model=SearchResults,
    responses=problems(404),
)
async def recommendations(
    body: RecommendBody, user: Annotated[User, Depends(current_user)], b: Annotated[Backends, Depends(backends)]
) -> SearchResults:
    try:
        return results_json(await b.assets.recommend(user.user_id, [str(a) for a in body.asset_ids], body.limit))
    except grpc.aio.AioRpcError as error:
        raise field_problem(error, "asset_ids") from None


@router.get(
    "/{asset_id}",
    summary="One of your assets, with links valid for an hour",
    response_model=AssetOut,
    responses=problems(404),
)
async def read(
    asset_id: uuid.UUID, user: Annotated[User, Depends(current_user)], b: Annotated[Backends, Depends(backends)]
) -> AssetOut:
    return asset_json(await b.assets.get(user.user_id, str(asset_id)))


@router.patch(
    "/{asset_id}",
    summary="Rename an asset (its stored objects keep their keys)",
    response_model=AssetOut,
    responses=problems(404),
)
async def rename(
    asset_id: uuid.UUID,
    body: RenameBody,
    user: Annotated[User, Depends(current_user)],
    b: Annotated[Backends, Depends(backends)],
) -> AssetOut:
    try:
        return asset_json(await b.assets.rename(user.user_id, str(asset_id), body.name))
    except grpc.aio.AioRpcError as error:
        raise field_problem(error, "name") from None


@router.delete(
    "/{asset_id}",
    status_code=204,
    summary="Delete an asset: its row and every stored object",
    responses=problems(404),
)
async def delete(
    asset_id: uuid.UUID, user: Annotated[User, Depends(current_user)], b: Annotated[Backends, Depends(backends)]
) -> Response:
    await b.assets.delete(user.user_id, str(asset_id))
    return Response(status_code=204)


@router.get(
    "/{asset_id}/similar",
    summary="Your images that look like this one, best first",
    description="503 when the assets service has no CLIP weights.",
    response_model=SearchResults,
    responses=problems(404),
)
async def similar(
    asset_id: uuid.UUID,
    user: Annotated[User, Depends(current_user)],
    b: Annotated[Backends, Depends(backends)],
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    min_score: Annotated[
        float, Query(ge=-1.0, le=1.0, allow_inf_nan=False, description="Drop results scoring below it")
    ] = 0.70,
) -> SearchResults:
    try:
        return results_json(await b.assets.similar(user.user_id, str(asset_id), limit, min_score))
    except grpc.aio.AioRpcError as error:
        raise field_problem(error, "asset_id") from None
