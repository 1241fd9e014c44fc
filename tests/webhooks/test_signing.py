"""Our signatures against the Standard Webhooks reference library (PyPI standardwebhooks)."""

from __future__ import annotations

import json
import time

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from streamcore.webhooks import signing

BODY = json.dumps({"type": "video.ready", "timestamp": "2026-01-01T00:00:00+00:00", "data": {}})


def test_a_signed_message_verifies_with_the_reference_library() -> None:
    secret = signing.new_secret()
    assert secret.startswith("whsec_")
    headers = signing.headers([secret], "msg_1", int(time.time()), BODY.encode())
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify(BODY, headers) == json.loads(BODY)


def test_a_tampered_body_fails_verification() -> None:
    secret = signing.new_secret()
    headers = signing.headers([secret], "msg_1", int(time.time()), BODY.encode())
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY.replace("ready", "failed"), headers)


def test_an_old_timestamp_fails_verification() -> None:
    secret = signing.new_secret()
    old = int(time.time()) - 600  # the library's tolerance is 5 minutes
    headers = signing.headers([secret], "msg_1", old, BODY.encode())
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY, headers)


def test_another_id_or_secret_fails_verification() -> None:
    secret = signing.new_secret()
    headers = signing.headers([secret], "msg_1", int(time.time()), BODY.encode())
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.new_secret()).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY, {**headers, "webhook-id": "msg_2"})


def test_during_a_rotation_both_secrets_verify() -> None:
    new, old = signing.new_secret(), signing.new_secret()
    headers = signing.headers([new, old], "msg_1", int(time.time()), BODY.encode())
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (new, old):
        assert Webhook(secret).verify(BODY, headers)["type"] == "video.ready"
