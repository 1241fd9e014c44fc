from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from streamcore.errors import BadRequest, PayloadTooLarge
from streamcore.uploads.multipart import MultipartStream

BOUNDARY = "----streamcoreTestBoundary"
CTYPE = f"multipart/form-data; boundary={BOUNDARY}"


def body(
    file_bytes: bytes, *, fields: dict[str, str] | None = None, complete: bool = True
) -> bytes:
    parts = b""
    for name, value in (fields or {}).items():
        parts += (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        ).encode()
    parts += (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a b.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    parts += file_bytes
    if complete:
        parts += f"\r\n--{BOUNDARY}--\r\n".encode()
    return parts


async def chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


async def read_all(stream: MultipartStream) -> bytes:
    return b"".join([c async for c in stream.file_chunks()])


@pytest.mark.parametrize("chunk_size", [1, 7, 64, 4096, 1 << 20])
async def test_file_bytes_survive_any_chunking(chunk_size: int) -> None:
    payload = bytes(range(256)) * 40 + b"\r\n--not-the-boundary\r\n" + b"tail"
    stream = MultipartStream(
        chunks(body(payload, fields={"session_id": "s1"}), chunk_size), CTYPE, 10**9
    )
    part = await stream.next_file()
    assert part is not None
    assert (part.field_name, part.filename, part.content_type) == ("file", "a b.mp4", "video/mp4")
    assert stream.fields == {"session_id": "s1"}
    assert await read_all(stream) == payload


async def test_body_ending_early_is_an_error() -> None:
    stream = MultipartStream(chunks(body(b"x" * 1000, complete=False), 100), CTYPE, 10**9)
    assert await stream.next_file() is not None
    with pytest.raises(BadRequest):
        await read_all(stream)


async def test_size_limit_counts_streamed_bytes() -> None:
    stream = MultipartStream(chunks(body(b"x" * 10_000), 512), CTYPE, 5_000)
    assert await stream.next_file() is not None
    with pytest.raises(PayloadTooLarge):
        await read_all(stream)


async def test_no_file_part_and_wrong_type() -> None:
    no_file = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--{BOUNDARY}--\r\n'
    )
    stream = MultipartStream(chunks(no_file.encode(), 10), CTYPE, 10**6)
    assert await stream.next_file() is None
    with pytest.raises(BadRequest):
        MultipartStream(chunks(b"", 1), "application/json", 10)
