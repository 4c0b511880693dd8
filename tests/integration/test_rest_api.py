"""The REST API end to end on a real `hangar up`: an owner invites a user, who accepts, logs in, makes a
personal key and pushes and pulls with it; once removed from the org, that key is refused."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hangar_harness import Hangar, http

REGISTRY_USER = ["REGISTRY_USER"]
PASSWORD = "correct horse battery"


def api(hangar: Hangar, method: str, path: str, *, token: str = "", body: object = None) -> tuple[int, Any]:
    """One REST call; the answer's JSON (None when there is no body)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = None
    if body is not None:
        headers["Content-Type"] = "application/json"
        data = json.dumps(body).encode()
    status, _, content = http(method, f"{hangar.url}/api/v1{path}", headers=headers, data=data)
    return status, (json.loads(content) if content else None)


def registry_token(hangar: Hangar, key: str, scope: str) -> tuple[int, str]:
    basic = base64.b64encode(f"$oauthtoken:{key}".encode()).decode()
    query = urlencode({"service": "hangar", "scope": scope})
    headers = {"Authorization": f"Basic {basic}"}
    status, _, content = http("GET", f"{hangar.url}/token?{query}", headers=headers)
    return status, (json.loads(content)["token"] if status == 200 else "")


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def push_image(hangar: Hangar, token: str, repository: str, tag: str) -> tuple[bytes, bytes]:
    """Push a one-layer image monolithically; return (manifest, layer)."""
    auth = {"Authorization": f"Bearer {token}"}
    layer, config = uuid.uuid4().bytes * 100, b'{"architecture":"amd64","os":"linux"}'
    for blob in (layer, config):
        status, _, body = http(
            "POST",
            f"{hangar.url}/v2/{repository}/blobs/uploads/?digest={quote(digest(blob))}",
            headers={**auth, "Content-Type": "application/octet-stream"},
            data=blob,
        )
        assert status == 201, body
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": digest(config),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": digest(layer),
                    "size": len(layer),
                }
            ],
        }
    ).encode()
    status, _, body = http(
        "PUT",
        f"{hangar.url}/v2/{repository}/manifests/{tag}",
        headers={**auth, "Content-Type": "application/vnd.oci.image.manifest.v1+json"},
        data=manifest,
    )
    assert status == 201, body
    return manifest, layer


def join(hangar: Hangar, email: str, roles: list[str]) -> tuple[str, str]:
    """Invite `email` to demo with `roles`, accept, log in: (user id, session token)."""
    status, invited = api(
        hangar,
        "POST",
        "/orgs/demo/users",
        token=hangar.key,
        body={"email": email, "display_name": "Invited", "roles": roles},
    )
    assert status == 201, invited
    status, accepted = api(
        hangar, "POST", f"/invitations/{invited['token']}/accept", body={"password": PASSWORD}
    )
    assert status == 200, accepted
    login = {"email": email, "password": PASSWORD}
    status, session = api(hangar, "POST", "/sessions", body=login)
    assert status == 201, session
    return str(accepted["user"]["id"]), str(session["session_token"])


def personal_key(hangar: Hangar, session: str, services: list[str]) -> str:
    status, created = api(
        hangar, "POST", "/users/me/keys", token=session, body={"name": "laptop", "services": services}
    )
    assert status == 201, created
    return str(created["secret"])


def test_an_invited_user_pushes_and_pulls_with_a_personal_key_made_in_a_session(hangar: Hangar) -> None:
    user_id, session = join(hangar, "pusher@example.com", REGISTRY_USER)

    status, me = api(hangar, "GET", "/users/me", token=session)
    assert status == 200 and me["memberships"] == [{"org": "demo", "team": None, "roles": REGISTRY_USER}]
    status, keys = api(hangar, "GET", "/users/me/keys", token=session)
    assert status == 200 and keys["items"] == []

    key = personal_key(hangar, session, ["registry"])
    status, keys = api(hangar, "GET", "/users/me/keys", token=session)
    assert [k["owner_user_id"] for k in keys["items"]] == [user_id]
    assert key not in json.dumps(keys)

    status, token = registry_token(hangar, key, "repository:demo/rest-e2e:pull,push")
    assert status == 200
    manifest, layer = push_image(hangar, token, "demo/rest-e2e", "1")
    auth = {"Authorization": f"Bearer {token}"}
    status, _, pulled = http(
        "GET",
        f"{hangar.url}/v2/demo/rest-e2e/manifests/1",
        headers={**auth, "Accept": "application/vnd.oci.image.manifest.v1+json"},
    )
    assert status == 200 and pulled == manifest
    status, _, blob = http("GET", f"{hangar.url}/v2/demo/rest-e2e/blobs/{digest(layer)}", headers=auth)
    assert status == 200 and blob == layer


def test_a_registry_user_may_not_invite(hangar: Hangar) -> None:
    _, session = join(hangar, "no-inviter@example.com", REGISTRY_USER)
    invitation = {"email": "x@example.com", "roles": REGISTRY_USER}
    status, refused = api(hangar, "POST", "/orgs/demo/users", token=session, body=invitation)
    assert status == 403, refused
    assert refused["error"]["code"] == "DENIED"


def test_a_removed_users_key_is_refused_within_seconds(hangar: Hangar) -> None:
    user_id, session = join(hangar, "leaver@example.com", REGISTRY_USER)
    key = personal_key(hangar, session, ["registry"])
    status, _ = registry_token(hangar, key, "repository:demo/rest-e2e:pull")
    assert status == 200

    status, body = api(hangar, "DELETE", f"/orgs/demo/users/{user_id}", token=hangar.key)
    assert status == 204, body

    deadline = time.monotonic() + 10
    while (status := registry_token(hangar, key, "repository:demo/rest-e2e:pull")[0]) != 401:
        assert time.monotonic() < deadline, f"the removed user's key still gets {status}"
        time.sleep(0.2)
    status, refused = api(hangar, "GET", "/orgs/demo", token=session)
    assert status == 404, refused


def test_the_audit_log_records_who_did_what(hangar: Hangar) -> None:
    join(hangar, "audited@example.com", REGISTRY_USER)
    status, owner = api(hangar, "GET", "/users/me", token=hangar.key)
    assert status == 200
    deadline = time.monotonic() + 10
    while True:
        status, page = api(hangar, "GET", "/orgs/demo/events?actor=" + owner["user"]["id"], token=hangar.key)
        assert status == 200, page
        if any("Invit" in event["type"] for event in page["items"]):
            break
        assert time.monotonic() < deadline, page
        time.sleep(0.2)


def test_the_openapi_document_is_served(hangar: Hangar) -> None:
    status, document = api(hangar, "GET", "/openapi.json")
    assert status == 200
    assert "/orgs/{org}/users/{user_id}" in document["paths"]


@pytest.mark.parametrize("path", ["/orgs/demo", "/users/me/keys"])
def test_without_a_credential_it_is_401(hangar: Hangar, path: str) -> None:
    status, body = api(hangar, "GET", path)
    assert status == 401 and body["error"]["code"] == "CREDENTIAL_MISSING"
