"""A caller of a running Hangar over plain HTTP: REST (`/api/v1`), `/token`, and the OCI API (`/v2`).

End-to-end tests speak to the gateway as real clients do, with nothing but urllib. Secrets never reach an
assertion message: `redact()` blanks keys, session and invitation tokens, and access tokens.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import re
import select
import socket
import time
import uuid
from collections.abc import Iterable, Sequence
from email.message import Message
from typing import Any, Final
from urllib.parse import quote, urlencode

from hangar_harness import http

PASSWORD: Final = "correct horse battery staple"
OCI_MANIFEST: Final = "application/vnd.oci.image.manifest.v1+json"
#: Access tokens refused for having been minted just before a membership event reached the gateway
#: (decision 0008) are fetched again, at most this many times.
TOKEN_RETRIES: Final = 3

_SECRETS: Final = re.compile(
    r"hg[rsi]_[A-Za-z0-9]+_[A-Za-z0-9_-]+|hg[si]_[A-Za-z0-9_-]{16,}|eyJ[\w-]+\.[\w-]+\.[\w-]*"
)
_NOTHING: Final = object()


def redact(text: object) -> str:
    """`text` as a string with every secret-looking value replaced (key prefixes stay: they are public)."""
    return _SECRETS.sub("<secret>", str(text))


def _http(
    method: str, url: str, *, headers: dict[str, str], data: bytes | None = None
) -> tuple[int, Message, bytes]:
    """The harness's `http`, but a failure to connect is raised without the request (its Authorization
    header) in the traceback."""
    __tracebackhide__ = True
    try:
        return http(method, url, headers=headers, data=data)
    except OSError as error:
        raise ConnectionError(f"{method} {url.split('?')[0]}: {error}") from None


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclasses.dataclass(frozen=True)
class Answer:
    """One HTTP answer: status, headers (case-insensitive), the body parsed as JSON when it is JSON."""

    status: int
    headers: Message = dataclasses.field(repr=False)
    raw: bytes = dataclasses.field(repr=False)

    def __repr__(self) -> str:  # what pytest shows of an answer: redacted, shortened
        return f"Answer({self.shown()})"

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.raw) if self.raw else None
        except ValueError:
            return None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def rest_error(self) -> dict[str, Any]:
        """The REST error object (`{"error": {...}}`), or {} when the body is not one."""
        body = self.json
        error = body.get("error") if isinstance(body, dict) else None
        return error if isinstance(error, dict) else {}

    @property
    def oci_error(self) -> dict[str, Any]:
        """The first OCI error (`{"errors": [{...}]}`), or {} when the body is not one."""
        body = self.json
        errors = body.get("errors") if isinstance(body, dict) else None
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return errors[0]
        return {}

    @property
    def reason(self) -> str:
        """Why an OCI request was refused: the detail's reason, else the message."""
        error = self.oci_error
        detail = error.get("detail")
        if isinstance(detail, dict) and detail.get("reason"):
            return str(detail["reason"])
        return str(error.get("message", ""))

    def shown(self, limit: int = 240) -> str:
        """Status and (redacted, shortened) body, for assertion messages."""
        return f"{self.status} {redact(self.raw.decode(errors='replace'))[:limit]}"


@dataclasses.dataclass(frozen=True)
class Member:
    """A user who joined by invitation: their id, email, console session and one personal key."""

    user_id: str
    email: str
    session: str = dataclasses.field(repr=False)
    key: str = dataclasses.field(repr=False)
    key_id: str = ""


class Client:
    """Requests to one gateway (loopback)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    # -- REST --------------------------------------------------------------------------------------------

    def api(
        self,
        method: str,
        path: str,
        *,
        token: str = "",
        body: object = _NOTHING,
        raw: bytes | None = None,
        content_type: str = "application/json",
    ) -> Answer:
        """One REST call: `body` is sent as JSON; `raw` as it is, with `content_type`."""
        __tracebackhide__ = True  # its arguments hold secrets: keep them out of tracebacks
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        data = raw
        if body is not _NOTHING:
            data = json.dumps(body).encode()
        if data is not None:
            headers["Content-Type"] = content_type
        status, answer_headers, content = _http(
            method, f"{self.base_url}/api/v1{path}", headers=headers, data=data
        )
        return Answer(status, answer_headers, content)

    def api_large(self, method: str, path: str, *, token: str, raw: bytes) -> Answer:
        """A REST call with a large JSON body, sent so that an early refusal is still read (`send_large`)."""
        __tracebackhide__ = True  # its arguments hold secrets: keep them out of tracebacks
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        return send_large(self.base_url, method, f"/api/v1{path}", headers, raw)

    def invite(self, by: str, email: str, roles: Sequence[str], team: str | None = None) -> Answer:
        __tracebackhide__ = True  # its arguments hold secrets: keep them out of tracebacks
        body: dict[str, Any] = {"email": email, "display_name": email.split("@")[0], "roles": list(roles)}
        if team is not None:
            body["team"] = team
        return self.api("POST", "/orgs/demo/users", token=by, body=body)

    def join(
        self,
        by: str,
        email: str,
        roles: Sequence[str],
        team: str | None = None,
        services: Sequence[str] = ("registry", "admin"),
    ) -> Member:
        """Invite `email` to demo (or one team) with `roles`, accept with a password, log in, make a key."""
        __tracebackhide__ = True  # its arguments hold secrets: keep them out of tracebacks
        invited = self.invite(by, email, roles, team)
        assert invited.status == 201, f"invite {email} {list(roles)} at {team or 'org'}: {invited.shown()}"
        token = invited.json["token"]
        accepted = self.api("POST", f"/invitations/{token}/accept", body={"password": PASSWORD})
        assert accepted.status == 200, f"accept {email}: {accepted.shown()}"
        session = self.api("POST", "/sessions", body={"email": email, "password": PASSWORD})
        assert session.status == 201, f"login {email}: {session.shown()}"
        session_token = str(session.json["session_token"])
        created = self.create_key(session_token, "e2e", services)
        assert created.status == 201, f"key for {email}: {created.shown()}"
        return Member(
            user_id=str(accepted.json["user"]["id"]),
            email=email,
            session=session_token,
            key=str(created.json["secret"]),
            key_id=str(created.json["key"]["id"]),
        )

    def create_key(self, session: str, name: str, services: Sequence[str] = ("registry", "admin")) -> Answer:
        __tracebackhide__ = True  # its arguments hold secrets: keep them out of tracebacks
        return self.api(
            "POST", "/users/me/keys", token=session, body={"name": name, "services": list(services)}
        )

    def service_key(
        self, by: str, name: str, scopes: list[dict[str, Any]], services: Sequence[str] = ("registry",)
    ) -> Answer:
        __tracebackhide__ = True  # its arguments hold secrets: keep them out of tracebacks
        body = {"name": name, "services": list(services), "scopes": scopes}
        return self.api("POST", "/orgs/demo/service-keys", token=by, body=body)

    # -- /token ------------------------------------------------------------------------------------------

    def token(self, key: str, *scopes: str) -> Answer:
        """GET /token with Basic `$oauthtoken:<key>` for `scopes`."""
        __tracebackhide__ = True  # its arguments hold secrets: keep them out of tracebacks
        basic = base64.b64encode(f"$oauthtoken:{key}".encode()).decode()
        query = urlencode([("service", "hangar"), *(("scope", scope) for scope in scopes)])
        status, headers, content = _http(
            "GET", f"{self.base_url}/token?{query}", headers={"Authorization": f"Basic {basic}"}
        )
        return Answer(status, headers, content)

    def access_token(self, key: str, *scopes: str) -> str:
        __tracebackhide__ = True  # its arguments hold secrets: keep them out of tracebacks
        answer = self.token(key, *scopes)
        assert answer.status == 200, f"/token {scopes}: {answer.shown()}"
        return str(answer.json["token"])

    # -- /v2 ---------------------------------------------------------------------------------------------

    def v2(
        self,
        method: str,
        path: str,
        *,
        token: str,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        __tracebackhide__ = True  # its arguments hold secrets: keep them out of tracebacks
        all_headers = {"Authorization": f"Bearer {token}", **(headers or {})}
        status, answer_headers, content = _http(
            method, f"{self.base_url}/v2/{path}", headers=all_headers, data=data
        )
        return Answer(status, answer_headers, content)


class Registry:
    """One principal's view of /v2: an API key whose access tokens (pull, push and delete asked on each
    repository) are fetched once and fetched again only when the gateway says the token was revoked."""

    ACTIONS: Final = "pull,push,delete"

    def __init__(self, client: Client, key: str) -> None:
        self._client = client
        self._key = key
        self._tokens: dict[str, str] = {}

    def _token(self, repository: str, fresh: bool = False) -> str:
        if fresh or repository not in self._tokens:
            answer = self._client.token(self._key, f"repository:{repository}:{self.ACTIONS}")
            assert answer.status == 200, f"/token for {repository}: {answer.shown()}"
            self._tokens[repository] = str(answer.json["token"])
        return self._tokens[repository]

    def request(
        self,
        method: str,
        repository: str,
        rest: str,
        *,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """`method /v2/<repository>/<rest>`; a token refused as revoked is replaced, a bounded few times."""
        answer = self._client.v2(
            method, f"{repository}/{rest}", token=self._token(repository), data=data, headers=headers
        )
        for _ in range(TOKEN_RETRIES):
            if not (answer.status == 401 and answer.reason == "TOKEN_REVOKED"):
                break
            time.sleep(0.05)
            token = self._token(repository, fresh=True)
            answer = self._client.v2(method, f"{repository}/{rest}", token=token, data=data, headers=headers)
        return answer

    # what a client does, one call each

    def pull_manifest(self, repository: str, reference: str) -> Answer:
        return self.request("GET", repository, f"manifests/{reference}", headers={"Accept": OCI_MANIFEST})

    def pull_blob(self, repository: str, digest: str) -> Answer:
        return self.request("GET", repository, f"blobs/{digest}")

    def push_blob(self, repository: str, data: bytes) -> Answer:
        """A monolithic upload (`POST ?digest=`)."""
        return self.request(
            "POST",
            repository,
            f"blobs/uploads/?digest={quote(sha256(data))}",
            data=data,
            headers={"Content-Type": "application/octet-stream"},
        )

    def push_manifest(self, repository: str, reference: str, manifest: bytes) -> Answer:
        return self.request(
            "PUT", repository, f"manifests/{reference}", data=manifest, headers={"Content-Type": OCI_MANIFEST}
        )

    def delete_manifest(self, repository: str, reference: str) -> Answer:
        return self.request("DELETE", repository, f"manifests/{reference}")

    def list_tags(self, repository: str) -> Answer:
        return self.request("GET", repository, "tags/list")


def image_config(layer: bytes) -> bytes:
    """An image config whose one diff id is `layer`'s digest (the layer is stored uncompressed)."""
    rootfs = {"type": "layers", "diff_ids": [sha256(layer)]}
    return json.dumps({"architecture": "amd64", "os": "linux", "rootfs": rootfs}, sort_keys=True).encode()


def manifest(config: bytes, layer: bytes, note: str = "") -> bytes:
    """An OCI image manifest of `config` and one `layer`; `note` (an annotation) makes its digest unique."""
    body: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": sha256(config),
            "size": len(config),
        },
        "layers": [
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar",
                "digest": sha256(layer),
                "size": len(layer),
            }
        ],
    }
    if note:
        body["annotations"] = {"org.example.note": note}
    return json.dumps(body, sort_keys=True).encode()


@dataclasses.dataclass(frozen=True)
class Image:
    """An image pushed to `repository` under `tag`."""

    repository: str
    tag: str
    config: bytes
    layer: bytes
    manifest: bytes

    @property
    def digest(self) -> str:
        return sha256(self.manifest)


def push_image(registry: Registry, repository: str, tag: str) -> Image:
    """Push a one-layer image (config, a small unique layer, the manifest under `tag`); fail loudly."""
    layer = f"layer of {repository}:{tag} {uuid.uuid4()}".encode()
    config = image_config(layer)
    for blob in (config, layer):
        answer = registry.push_blob(repository, blob)
        assert answer.status == 201, f"push blob to {repository}: {answer.shown()}"
    body = manifest(config, layer)
    answer = registry.push_manifest(repository, tag, body)
    assert answer.status == 201, f"push {repository}:{tag}: {answer.shown()}"
    return Image(repository, tag, config, layer, body)


def retag(registry: Registry, image: Image, tag: str, note: str) -> str:
    """Push a new manifest over `image`'s blobs (already in its repository) under `tag`; its digest."""
    body = manifest(image.config, image.layer, note)
    answer = registry.push_manifest(image.repository, tag, body)
    assert answer.status == 201, f"push {image.repository}:{tag}: {answer.shown()}"
    return sha256(body)


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """Rows as an aligned plain-text table (redacted)."""
    cells = [[str(h) for h in headers], *[[redact(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in cells
    )


def send_large(base_url: str, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
    """Send a large body as curl does: stop sending once the server has answered (a server refusing a body
    by its Content-Length answers before reading it, then closes), and read that answer. urllib would
    instead fail with a broken pipe when the server closes first."""
    __tracebackhide__ = True  # its arguments hold secrets: keep them out of tracebacks
    host, _, port = base_url.removeprefix("http://").partition(":")
    head = [
        f"{method} {path} HTTP/1.1",
        f"Host: {host}:{port}",
        f"Content-Length: {len(body)}",
        "Connection: close",
    ]
    head += [f"{name}: {value}" for name, value in headers.items()]
    deadline = time.monotonic() + 30
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        for offset in range(0, len(body), 64 * 1024):
            if select.select([sock], [], [], 0)[0]:
                break
            try:
                sock.sendall(body[offset : offset + 64 * 1024])
            except (BrokenPipeError, ConnectionResetError):
                break
        received = b""
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            received += chunk
    status_line, _, rest = received.partition(b"\r\n")
    raw_headers, _, content = rest.partition(b"\r\n\r\n")
    message = Message()
    for line in raw_headers.decode("latin-1").split("\r\n"):
        name, _, value = line.partition(":")
        if name:
            message[name.strip()] = value.strip()
    status = int(status_line.split()[1]) if len(status_line.split()) > 1 else 0
    return Answer(status, message, content)
