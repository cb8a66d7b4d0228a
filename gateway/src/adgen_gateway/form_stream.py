"""Reading a multipart/form-data body as it arrives: which part starts, its bytes, where it ends.

A file is passed on while it is received instead of being held (in memory or on disk) until the
whole body is in, so an upload can be refused at the byte that makes it too large.
"""

from __future__ import annotations

from dataclasses import dataclass

from python_multipart.multipart import MultipartParseError, MultipartParser, parse_options_header

MAX_HEADER_BYTES = 4096


class MalformedForm(ValueError):
    """The body is not the multipart/form-data its headers announce."""


@dataclass(frozen=True)
class PartStart:
    name: str
    filename: str | None  # None for a plain field


@dataclass(frozen=True)
class PartData:
    data: bytes


@dataclass(frozen=True)
class PartEnd:
    pass


Event = PartStart | PartData | PartEnd


def boundary_of(content_type: str | None) -> bytes:
    kind, options = parse_options_header(content_type or "")
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise MalformedForm("send the file as multipart/form-data")
    return boundary


class FormStream:
    """Feed it the body's chunks; it answers each with the events that chunk completed."""

    def __init__(self, content_type: str | None) -> None:
        self._events: list[Event] = []
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._disposition = b""
        self.ended = False
        self._parser = MultipartParser(
            boundary_of(content_type),
            {
                "on_part_begin": self._begin,
                "on_header_field": lambda d, s, e: self._header_field.extend(d[s:e]),
                "on_header_value": lambda d, s, e: self._header_value.extend(d[s:e]),
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": lambda d, s, e: self._events.append(PartData(bytes(d[s:e]))),
                "on_part_end": lambda: self._events.append(PartEnd()),
                "on_end": self._end,
            },
        )

    def feed(self, chunk: bytes) -> list[Event]:
        try:
            self._parser.write(chunk)
        except MultipartParseError as error:
            raise MalformedForm(f"the multipart body is malformed ({error})") from None
        events, self._events = self._events, []
        return events

    def _begin(self) -> None:
        self._disposition = b""

    def _header_end(self) -> None:
        if len(self._header_field) + len(self._header_value) > MAX_HEADER_BYTES:
            raise MultipartParseError("a part header is too long")
        if bytes(self._header_field).strip().lower() == b"content-disposition":
            self._disposition = bytes(self._header_value)
        self._header_field.clear()
        self._header_value.clear()

    def _headers_finished(self) -> None:
        kind, options = parse_options_header(self._disposition)
        name = options.get(b"name")
        if kind != b"form-data" or name is None:
            raise MultipartParseError("a part has no 'Content-Disposition: form-data; name=...' header")
        filename = options.get(b"filename")
        self._events.append(
            PartStart(name.decode(errors="replace"), None if filename is None else filename.decode(errors="replace"))
        )

    def _end(self) -> None:
        self.ended = True
