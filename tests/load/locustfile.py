"""A load smoke of the paths every viewer and client hits: /health, login, the project
list (there is no `GET /videos` list yet), `GET /videos/{id}` and the master playlist
through its signed URL. Every response is checked, not only its status.

Against any deployment (a user with a ready video in one of its projects):

    STREAMCORE_LOAD_EMAIL=you@example.com STREAMCORE_LOAD_PASSWORD=... \\
    STREAMCORE_LOAD_VIDEO_ID=<id> .venv/bin/locust -f tests/load/locustfile.py \\
        --headless -u 20 -r 10 -t 60s --host https://api.example.com

Login attempts count against the per-IP, per-account-and-address and per-account limits
(STREAMCORE_AUTH__LOGIN_*): raise them on the target, or lower the login weight."""

from __future__ import annotations

import os

from locust import HttpUser, between, task

EMAIL = os.environ.get("STREAMCORE_LOAD_EMAIL", "")
PASSWORD = os.environ.get("STREAMCORE_LOAD_PASSWORD", "")
VIDEO_ID = os.environ.get("STREAMCORE_LOAD_VIDEO_ID", "")


class Viewer(HttpUser):
    wait_time = between(0.05, 0.2)
    token = ""

    def on_start(self) -> None:
        self.login()

    @task(4)
    def health(self) -> None:
        with self.client.get("/health", name="/health", catch_response=True) as resp:
            if resp.status_code != 200 or resp.json().get("status") != "ok":
                resp.failure(f"{resp.status_code} {resp.text[:200]}")

    @task(1)
    def login(self) -> None:
        body = {"email": EMAIL, "password": PASSWORD}
        with self.client.post("/auth/login", json=body, name="login", catch_response=True) as r:
            if r.status_code != 200 or not r.json().get("access_token"):
                r.failure(f"{r.status_code} {r.text[:200]}")
                return
            self.token = r.json()["access_token"]

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @task(4)
    def projects(self) -> None:
        with self.client.get(
            "/projects", headers=self.auth, name="/projects", catch_response=True
        ) as resp:
            if resp.status_code != 200 or not resp.json():
                resp.failure(f"{resp.status_code} {resp.text[:200]}")

    def video(self) -> dict[str, object] | None:
        with self.client.get(
            f"/videos/{VIDEO_ID}", headers=self.auth, name="/videos/{id}", catch_response=True
        ) as resp:
            body = resp.json() if resp.status_code == 200 else {}
            if body.get("status") != "ready" or not body.get("playback_url"):
                resp.failure(f"{resp.status_code} {resp.text[:200]}")
                return None
            return dict(body)

    @task(4)
    def get_video(self) -> None:
        self.video()

    @task(4)
    def master_playlist(self) -> None:
        video = self.video()
        if video is None:
            return
        with self.client.get(
            str(video["playback_url"]), name="master playlist", catch_response=True
        ) as resp:
            if resp.status_code != 200 or not resp.text.startswith("#EXTM3U"):
                resp.failure(f"{resp.status_code} {resp.text[:200]}")
