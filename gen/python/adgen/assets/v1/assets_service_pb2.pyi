import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AssetSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ASSET_SOURCE_UNSPECIFIED: _ClassVar[AssetSource]
    ASSET_SOURCE_USER_UPLOAD: _ClassVar[AssetSource]
    ASSET_SOURCE_GENERATED: _ClassVar[AssetSource]
ASSET_SOURCE_UNSPECIFIED: AssetSource
ASSET_SOURCE_USER_UPLOAD: AssetSource
ASSET_SOURCE_GENERATED: AssetSource

class Asset(_message.Message):
    __slots__ = ("asset_id", "user_id", "name", "content_type", "width", "height", "source", "original_key", "thumbnail_key", "edges_key", "created_at", "embedded", "urls")
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_KEY_FIELD_NUMBER: _ClassVar[int]
    THUMBNAIL_KEY_FIELD_NUMBER: _ClassVar[int]
    EDGES_KEY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    EMBEDDED_FIELD_NUMBER: _ClassVar[int]
    URLS_FIELD_NUMBER: _ClassVar[int]
    asset_id: str
    user_id: str
    name: str
    content_type: str
    width: int
    height: int
    source: AssetSource
    original_key: str
    thumbnail_key: str
    edges_key: str
    created_at: _timestamp_pb2.Timestamp
    embedded: bool
    urls: AssetUrls
    def __init__(self, asset_id: _Optional[str] = ..., user_id: _Optional[str] = ..., name: _Optional[str] = ..., content_type: _Optional[str] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., source: _Optional[_Union[AssetSource, str]] = ..., original_key: _Optional[str] = ..., thumbnail_key: _Optional[str] = ..., edges_key: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., embedded: _Optional[bool] = ..., urls: _Optional[_Union[AssetUrls, _Mapping]] = ...) -> None: ...

class AssetUrls(_message.Message):
    __slots__ = ("original", "thumbnail", "edges", "expires_at")
    ORIGINAL_FIELD_NUMBER: _ClassVar[int]
    THUMBNAIL_FIELD_NUMBER: _ClassVar[int]
    EDGES_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    original: str
    thumbnail: str
    edges: str
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, original: _Optional[str] = ..., thumbnail: _Optional[str] = ..., edges: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class UploadAssetMetadata(_message.Message):
    __slots__ = ("user_id", "filename", "name")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    filename: str
    name: str
    def __init__(self, user_id: _Optional[str] = ..., filename: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class UploadAssetRequest(_message.Message):
    __slots__ = ("metadata", "chunk")
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    metadata: UploadAssetMetadata
    chunk: bytes
    def __init__(self, metadata: _Optional[_Union[UploadAssetMetadata, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class UploadAssetResponse(_message.Message):
    __slots__ = ("asset", "near_duplicate_ids", "near_duplicates")
    ASSET_FIELD_NUMBER: _ClassVar[int]
    NEAR_DUPLICATE_IDS_FIELD_NUMBER: _ClassVar[int]
    NEAR_DUPLICATES_FIELD_NUMBER: _ClassVar[int]
    asset: Asset
    near_duplicate_ids: _containers.RepeatedScalarFieldContainer[str]
    near_duplicates: _containers.RepeatedCompositeFieldContainer[NearDuplicate]
    def __init__(self, asset: _Optional[_Union[Asset, _Mapping]] = ..., near_duplicate_ids: _Optional[_Iterable[str]] = ..., near_duplicates: _Optional[_Iterable[_Union[NearDuplicate, _Mapping]]] = ...) -> None: ...

class NearDuplicate(_message.Message):
    __slots__ = ("asset_id", "score")
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    asset_id: str
    score: float
    def __init__(self, asset_id: _Optional[str] = ..., score: _Optional[float] = ...) -> None: ...

class GetAssetRequest(_message.Message):
    __slots__ = ("user_id", "asset_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    asset_id: str
    def __init__(self, user_id: _Optional[str] = ..., asset_id: _Optional[str] = ...) -> None: ...

class GetAssetResponse(_message.Message):
    __slots__ = ("asset",)
    ASSET_FIELD_NUMBER: _ClassVar[int]
    asset: Asset
    def __init__(self, asset: _Optional[_Union[Asset, _Mapping]] = ...) -> None: ...

class ListAssetsRequest(_message.Message):
    __slots__ = ("user_id", "page_size", "page_token")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    page_size: int
    page_token: str
    def __init__(self, user_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListAssetsResponse(_message.Message):
    __slots__ = ("assets", "next_page_token")
    ASSETS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    assets: _containers.RepeatedCompositeFieldContainer[Asset]
    next_page_token: str
    def __init__(self, assets: _Optional[_Iterable[_Union[Asset, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DeleteAssetRequest(_message.Message):
    __slots__ = ("user_id", "asset_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    asset_id: str
    def __init__(self, user_id: _Optional[str] = ..., asset_id: _Optional[str] = ...) -> None: ...

class DeleteAssetResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RenameAssetRequest(_message.Message):
    __slots__ = ("user_id", "asset_id", "name")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    asset_id: str
    name: str
    def __init__(self, user_id: _Optional[str] = ..., asset_id: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class RenameAssetResponse(_message.Message):
    __slots__ = ("asset",)
    ASSET_FIELD_NUMBER: _ClassVar[int]
    asset: Asset
    def __init__(self, asset: _Optional[_Union[Asset, _Mapping]] = ...) -> None: ...

class ScoredAsset(_message.Message):
    __slots__ = ("asset", "score")
    ASSET_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    asset: Asset
    score: float
    def __init__(self, asset: _Optional[_Union[Asset, _Mapping]] = ..., score: _Optional[float] = ...) -> None: ...

class SearchAssetsRequest(_message.Message):
    __slots__ = ("user_id", "query", "limit", "min_score")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    MIN_SCORE_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    query: str
    limit: int
    min_score: float
    def __init__(self, user_id: _Optional[str] = ..., query: _Optional[str] = ..., limit: _Optional[int] = ..., min_score: _Optional[float] = ...) -> None: ...

class SearchAssetsResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[ScoredAsset]
    def __init__(self, results: _Optional[_Iterable[_Union[ScoredAsset, _Mapping]]] = ...) -> None: ...

class SimilarAssetsRequest(_message.Message):
    __slots__ = ("user_id", "asset_id", "limit", "min_score")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    MIN_SCORE_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    asset_id: str
    limit: int
    min_score: float
    def __init__(self, user_id: _Optional[str] = ..., asset_id: _Optional[str] = ..., limit: _Optional[int] = ..., min_score: _Optional[float] = ...) -> None: ...

class SimilarAssetsResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[ScoredAsset]
    def __init__(self, results: _Optional[_Iterable[_Union[ScoredAsset, _Mapping]]] = ...) -> None: ...

class RecommendAssetsRequest(_message.Message):
    __slots__ = ("user_id", "asset_ids", "limit")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ASSET_IDS_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    asset_ids: _containers.RepeatedScalarFieldContainer[str]
    limit: int
    def __init__(self, user_id: _Optional[str] = ..., asset_ids: _Optional[_Iterable[str]] = ..., limit: _Optional[int] = ...) -> None: ...

class RecommendAssetsResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[ScoredAsset]
    def __init__(self, results: _Optional[_Iterable[_Union[ScoredAsset, _Mapping]]] = ...) -> None: ...
