"""Streaming multipart/form-data reader: the file part's bytes flow to storage as they
arrive and are never held whole in memory or spooled to a temporary file."""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import structlog
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser

from streamcore.errors import BadRequest, PayloadTooLarge
from streamcore.inputs import content_disposition, decode_utf8, multipart_boundary

log = structlog.get_logger(__name__)

MAX_FIELD_BYTES = 64 * 1024
MAX_FIELDS = 32
MAX_PART_HEADERS = 16
MAX_HEADER_BYTES = 8 * 1024


@dataclass
class FilePart:
    field_name: str
    filename: str
    content_type: str


@dataclass
class _PartState:
    headers: dict[str, bytes] = field(default_factory=dict)
    header_field: bytearray = field(default_factory=bytearray)
    header_value: bytearray = field(default_factory=bytearray)


class MultipartStream:
    """Reads a request body; `fields` collects the small text fields, `next_file()`
    returns the next file part and `file_chunks()` yields its bytes."""

    def __init__(self, body: AsyncIterator[bytes], content_type: str, max_bytes: int) -> None:
        boundary = multipart_boundary(content_type)
        self._body = body
        self._max_bytes = max_bytes
        self._received = 0
        self._events: deque[tuple[str, object]] = deque()
        self._part = _PartState()
        self._ended = False
        self._current_file: FilePart | None = None
        self._field_buffer = bytearray()
        self.fields: dict[str, str] = {}
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._on_part_begin,
                "on_header_field": self._on_header_field,
                "on_header_value": self._on_header_value,
                "on_header_end": self._on_header_end,
                "on_headers_finished": self._on_headers_finished,
                "on_part_data": self._on_part_data,
                "on_part_end": self._on_part_end,
                "on_end": self._on_end,
            },
        )

    @property
    def received_bytes(self) -> int:
        return self._received

    # -- parser callbacks (synchronous; they only queue events) --
    def _on_part_begin(self) -> None:
        self._part = _PartState()

    # The parser calls these synchronously from write(); errors they raise surface
    # from _pump as BadRequest, never as a parser crash.
    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._part.header_field += data[start:end]
        self._check_header_size()

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._part.header_value += data[start:end]
        self._check_header_size()

    def _check_header_size(self) -> None:
        if len(self._part.header_field) + len(self._part.header_value) > MAX_HEADER_BYTES:
            raise BadRequest("a multipart part header is too large")

    def _on_header_end(self) -> None:
        if len(self._part.headers) >= MAX_PART_HEADERS:
            raise BadRequest("a multipart part has too many headers")
        name = self._part.header_field.decode("latin-1").strip().lower()
        self._part.headers[name] = bytes(self._part.header_value).strip()
        self._part.header_field = bytearray()
        self._part.header_value = bytearray()

    def _on_headers_finished(self) -> None:
        params = content_disposition(self._part.headers.get("content-disposition", b""))
        name = params.get("name", "")
        filename = params.get("filename")
        if filename is None:
            self._events.append(("field", name))
            return
        content_type = self._part.headers.get("content-type", b"application/octet-stream")
        part = FilePart(
            field_name=name,
            filename=filename,
            content_type=decode_utf8(content_type, "the part's Content-Type", max_length=127),
        )
        self._events.append(("file", part))

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        self._events.append(("data", data[start:end]))

    def _on_part_end(self) -> None:
        self._events.append(("end", None))

    def _on_end(self) -> None:
        self._ended = True

    # -- async side --
    async def _pump(self) -> bool:
        """Feed the parser one more body chunk; False at the end of the body."""
        async for chunk in self._body:
            self._received += len(chunk)
            if self._received > self._max_bytes:
                raise PayloadTooLarge(f"upload exceeds the limit of {self._max_bytes} bytes")
            try:
                self._parser.write(chunk)
            except MultipartParseError as exc:
                # The parser's message quotes body bytes: it goes to the log only.
                log.info("upload.multipart_malformed", reason=str(exc)[:200])
                raise BadRequest("malformed multipart body") from exc
            return True
        return False

    async def _next_event(self) -> tuple[str, object] | None:
        while not self._events:
            if self._ended or not await self._pump():
                return None
        return self._events.popleft()

    async def next_file(self) -> FilePart | None:
        """Skip to the next file part, collecting text fields on the way."""
        field_name: str | None = None
        while (event := await self._next_event()) is not None:
            kind, value = event
            if kind == "file":
                assert isinstance(value, FilePart)
                self._current_file = value
                return value
            if kind == "field":
                field_name = str(value)
                self._field_buffer = bytearray()
            elif kind == "data" and field_name is not None:
                assert isinstance(value, bytes)
                self._field_buffer += value
                if len(self._field_buffer) > MAX_FIELD_BYTES:
                    raise BadRequest(f"form field {field_name!r} is too large")
            elif kind == "end" and field_name is not None:
                if len(self.fields) >= MAX_FIELDS:
                    raise BadRequest("too many form fields")
                self.fields[field_name] = decode_utf8(
                    bytes(self._field_buffer),
                    f"form field {field_name!r}",
                    max_length=MAX_FIELD_BYTES,
                )
                field_name = None
        return None

    async def file_chunks(self) -> AsyncIterator[bytes]:
        """The current file part's bytes; raises BadRequest if the body ends first."""
        while True:
            event = await self._next_event()
            if event is None:
                raise BadRequest("the upload ended before the file was complete")
            kind, value = event
            if kind == "end":
                return
            if kind == "data":
                assert isinstance(value, bytes)
                if value:
                    yield value
