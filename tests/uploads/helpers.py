"""Client-side helpers shared by the upload tests."""

from __future__ import annotations

import base64

import httpx

TUS = {"Tus-Resumable": "1.0.0"}
OCTET = "application/offset+octet-stream"


def send(plan: dict[str, object], data: bytes) -> None:
    """Upload as the plan says, with a client that knows nothing of streamcore."""
    with httpx.Client(timeout=60) as raw:
        if plan["method"] == "single":
            resp = raw.put(str(plan["url"]), content=data, headers=plan["headers"])  # type: ignore[arg-type]
            assert resp.status_code in (200, 201), resp.text
            return
        offset = 0
        for part in plan["parts"]:  # type: ignore[attr-defined]
            piece = data[offset : offset + part["size"]]
            offset += part["size"]
            resp = raw.put(part["url"], content=piece)
            assert resp.status_code in (200, 201), resp.text
        assert offset == len(data)


def meta_header(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def create(client: httpx.Client, project: str, length: int) -> str:
    resp = client.post(
        "/uploads/tus/",
        headers={
            **TUS,
            "Upload-Length": str(length),
            "Upload-Metadata": meta_header(project_id=project, filename="clip.mp4"),
        },
    )
    assert resp.status_code == 201, resp.text
    return resp.headers["location"]


def head(client: httpx.Client, url: str) -> httpx.Response:
    return client.head(url, headers=TUS)
