"""Property tests: arbitrary header values, file names and multipart shapes sent to the
upload routes never get a 5xx, and a refused request stores nothing (no asset, no
upload row, no object)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from tests.auth.conftest import running_api
from tests.contract.conftest import MiB, Tenant, contract_settings, make_tenant

PROPERTY = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
header_bytes = st.binary(max_size=300).filter(lambda b: b"\r" not in b and b"\n" not in b)
names = st.text(max_size=80) | st.binary(max_size=80).map(lambda b: b.decode("latin-1"))


@pytest.fixture(scope="module")
async def tenant(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Tenant]:
    data = tmp_path_factory.mktemp("hostile")
    db = f"sqlite+aiosqlite:///{data / 'db.sqlite'}"
    async with running_api(contract_settings(data, db, max_bytes=MiB)) as api:
        yield await make_tenant(api, data)


async def _no_trace_unless_created(t: Tenant, before: dict[str, int], status: int) -> None:
    assert status < 500
    if status >= 300:
        assert await t.rows() == before
        assert not [p for p in t.objects() if p.name.endswith(".part")]


@seed(16)
@PROPERTY
@given(
    disposition=header_bytes,
    part_type=header_bytes,
    boundary=header_bytes,
    body=st.binary(max_size=200),
    extra_fields=st.lists(st.tuples(names, st.text(max_size=50)), max_size=3),
)
async def test_multipart_shapes(
    tenant: Tenant,
    disposition: bytes,
    part_type: bytes,
    boundary: bytes,
    body: bytes,
    extra_fields: list[tuple[str, str]],
) -> None:
    b = boundary or b"x"
    fields = b"".join(
        b"--" + b + b'\r\nContent-Disposition: form-data; name="' + n.encode("utf-8", "replace")
        + b'"\r\n\r\n' + v.encode() + b"\r\n"
        for n, v in extra_fields
    )  # fmt: skip
    payload = (
        fields + b"--" + b + b"\r\nContent-Disposition: " + disposition + b"\r\n"
        b"Content-Type: " + part_type + b"\r\n\r\n" + body + b"\r\n--" + b + b"--\r\n"
    )  # fmt: skip
    before = await tenant.rows()
    async with tenant.client() as c:
        resp = await c.post(
            f"/{tenant.project}/upload",
            content=payload,
            headers={"Content-Type": b"multipart/form-data; boundary=" + boundary},
        )
    await _no_trace_unless_created(tenant, before, resp.status_code)


@seed(16)
@PROPERTY
@given(filename=names, content_type=st.text(max_size=60))
async def test_file_names(tenant: Tenant, filename: str, content_type: str) -> None:
    before = await tenant.rows()
    async with tenant.client() as c:
        resp = await c.post(
            f"/{tenant.project}/upload",
            files={"file": (filename, b"bytes", content_type or "video/mp4")},
        )
    await _no_trace_unless_created(tenant, before, resp.status_code)
    if resp.status_code == 201:
        assert resp.json()["filename"] == resp.json()["filename"].strip("\x00")


@seed(16)
@PROPERTY
@given(
    length=header_bytes,
    offset=header_bytes,
    metadata=header_bytes,
    resumable=st.sampled_from([b"1.0.0", b"", b"0.2", b"1.0.0\xff"]),
    checksum=header_bytes,
)
async def test_tus_headers(
    tenant: Tenant,
    length: bytes,
    offset: bytes,
    metadata: bytes,
    resumable: bytes,
    checksum: bytes,
) -> None:
    before = await tenant.rows()
    meta = b"project_id " + base64.b64encode(tenant.project.encode()) + b"," + metadata
    async with tenant.client() as c:
        created = await c.post(
            "/uploads/tus/",
            headers={"Tus-Resumable": resumable, "Upload-Length": length, "Upload-Metadata": meta},
        )
        await _no_trace_unless_created(tenant, before, created.status_code)
        if created.status_code != 201:
            return
        patched = await c.patch(
            created.headers["location"],
            content=b"abcd",
            headers={
                "Tus-Resumable": b"1.0.0",
                "Upload-Offset": offset,
                "Upload-Checksum": checksum,
                "Content-Type": b"application/offset+octet-stream",
            },
        )
        assert patched.status_code < 500


@seed(16)
@PROPERTY
@given(headers=st.dictionaries(st.sampled_from(
    ["Content-Length", "X-Forwarded-For", "X-Request-ID", "User-Agent", "Content-Type", "Range"]
), header_bytes, max_size=4))  # fmt: skip
async def test_header_values_on_presign(tenant: Tenant, headers: dict[str, bytes]) -> None:
    headers.pop("Content-Length", None)  # httpx sets the real one
    before = await tenant.rows()
    async with tenant.client() as c:
        resp = await c.post(
            "/uploads/presign",
            json={"project_id": tenant.project, "filename": "a.mp4", "size": 10},
            headers={**headers, "Content-Type": "application/json"},
        )
    await _no_trace_unless_created(tenant, before, resp.status_code)
    assert len(resp.headers["x-request-id"]) <= 64
