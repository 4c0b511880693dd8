"""In-memory fakes of the four service ports, beside the ports they fake: for tests that need no process.

They keep the rules the gateway relies on (offsets, digest checks, owners, tag order, error codes) and
nothing more; the services' own tests cover the rest.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import secrets
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Sequence

from hangar.gateway.clients.model import (
    AccessResult,
    BlobInfo,
    CreatedOrg,
    IssuedKey,
    KeyInfo,
    Org,
    PutManifestResult,
    StoredManifest,
    TagPage,
    UploadStatus,
    User,
)
from hangar.kit.errors import DomainError, InvalidArgument, NotFound, OutOfRange, Unauthenticated

MAX_MANIFEST_BYTES = 4 * 1024 * 1024


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class FakeIdentity:
    def __init__(self) -> None:
        self.orgs: dict[str, Org] = {}
        self.users: dict[str, User] = {}
        self.grants: dict[tuple[str, str], set[str]] = {}
        self.check_access_calls = 0
        self.healthy = True

    def grant(self, user_id: str, repository: str, *capabilities: str) -> None:
        self.grants.setdefault((user_id, repository), set()).update(capabilities)

    async def create_org(
        self, name: str, display_name: str, owner_email: str, owner_display_name: str
    ) -> CreatedOrg:
        org = Org(org_id=uuid.uuid4().hex, name=name, display_name=display_name)
        self.orgs[name] = org
        owner = await self.add_user(name, owner_email, owner_display_name, ["ORG_OWNER"])
        return CreatedOrg(org_id=org.org_id, org=name, owner_user_id=owner.user_id)

    async def get_org(self, name: str) -> Org:
        if name not in self.orgs:
            raise NotFound(f"org {name} does not exist", code="ORG_NOT_FOUND")
        return self.orgs[name]

    async def get_user(self, user_id: str) -> User:
        if user_id not in self.users:
            raise NotFound(f"user {user_id} does not exist", code="USER_NOT_FOUND")
        return self.users[user_id]

    async def get_user_by_email(self, email: str) -> User:
        for user in self.users.values():
            if user.email == email:
                return user
        raise NotFound(f"no user has email {email}", code="USER_NOT_FOUND")

    async def add_user(
        self, org: str, email: str, display_name: str, roles: Sequence[str], team: str = ""
    ) -> User:
        user = User(user_id=uuid.uuid4().hex, email=email, display_name=display_name)
        self.users[user.user_id] = user
        return user

    async def remove_user(self, org: str, user_id: str) -> None:
        self.users.pop(user_id, None)

    async def check_access(self, user_id: str, repository: str, capabilities: Iterable[str]) -> AccessResult:
        self.check_access_calls += 1
        asked = frozenset(capabilities)
        granted = asked & self.grants.get((user_id, repository), set())
        reason = "" if granted == asked else f"you have no role that allows this on {repository}"
        return AccessResult(granted=frozenset(granted), denial_reason=reason)

    async def serving(self) -> bool:
        return self.healthy


class FakeKeys:
    def __init__(self) -> None:
        self.keys: dict[str, KeyInfo] = {}
        self.refusals: dict[str, DomainError] = {}
        self.authenticate_calls = 0
        self.healthy = True

    def add(self, secret: str, key: KeyInfo) -> None:
        self.keys[secret] = key

    def refuse(self, secret: str, error: DomainError) -> None:
        """Make `secret` fail authentication with `error` (a revoked or expired key)."""
        self.keys.pop(secret, None)
        self.refusals[secret] = error

    async def issue_personal_key(
        self, org: str, user_id: str, name: str, services: Sequence[str], expires_in_seconds: int = 0
    ) -> IssuedKey:
        prefix = "hgr_" + secrets.token_hex(4)
        secret = f"{prefix}_{secrets.token_urlsafe(24)}"
        key_id = uuid.uuid4().hex
        self.keys[secret] = KeyInfo(
            key_id=key_id, org=org, user_id=user_id, services=frozenset(services), prefix=prefix
        )
        return IssuedKey(key_id=key_id, secret=secret, prefix=prefix)

    async def authenticate(self, secret: str) -> KeyInfo:
        self.authenticate_calls += 1
        if secret in self.refusals:
            raise self.refusals[secret]
        if secret not in self.keys:
            raise Unauthenticated("the API key is not valid", code="KEY_INVALID")
        return self.keys[secret]

    async def revoke_key(self, key_id: str, reason: str) -> None:
        for secret, key in list(self.keys.items()):
            if key.key_id == key_id:
                self.refuse(
                    secret, Unauthenticated(f"API key {key.prefix} has been revoked", code="KEY_REVOKED")
                )

    async def serving(self) -> bool:
        return self.healthy


@dataclasses.dataclass
class _Repository:
    manifests: dict[str, StoredManifest] = dataclasses.field(default_factory=dict)
    tags: dict[str, str] = dataclasses.field(default_factory=dict)
    blobs: dict[str, int] = dataclasses.field(default_factory=dict)


class FakeRegistry:
    def __init__(self) -> None:
        self.repositories: dict[str, _Repository] = {}
        self.healthy = True

    def _repository(self, name: str) -> _Repository:
        if name not in self.repositories:
            raise NotFound(f"repository {name} does not exist", code="NAME_UNKNOWN")
        return self.repositories[name]

    async def put_manifest(
        self, repository: str, reference: str, media_type: str, content: bytes
    ) -> PutManifestResult:
        if len(content) > MAX_MANIFEST_BYTES:
            raise InvalidArgument("manifest is larger than 4 MiB", code="SIZE_INVALID")
        try:
            document = json.loads(content)
        except ValueError:
            raise InvalidArgument("manifest is not JSON", code="MANIFEST_INVALID") from None
        if not isinstance(document, dict):
            raise InvalidArgument("manifest is not a JSON object", code="MANIFEST_INVALID")
        digest = sha256_digest(content)
        if ":" in reference and reference != digest:
            raise InvalidArgument(f"manifest digest is {digest}, not {reference}", code="DIGEST_INVALID")
        repo = self.repositories.setdefault(repository, _Repository())
        descriptors = [document.get("config") or {}, *(document.get("layers") or [])]
        for descriptor in descriptors:
            if descriptor.get("digest") and descriptor["digest"] not in repo.blobs:
                raise InvalidArgument(f"blob {descriptor['digest']} is unknown", code="MANIFEST_BLOB_UNKNOWN")
        repo.manifests[digest] = StoredManifest(digest=digest, media_type=media_type, content=content)
        if ":" not in reference:
            repo.tags[reference] = digest
        subject = document.get("subject") or {}
        return PutManifestResult(digest=digest, subject_digest=str(subject.get("digest", "")))

    async def get_manifest(self, repository: str, reference: str) -> StoredManifest:
        repo = self._repository(repository)
        digest = repo.tags.get(reference, reference)
        if digest not in repo.manifests:
            raise NotFound(f"manifest {reference} is unknown", code="MANIFEST_UNKNOWN")
        return repo.manifests[digest]

    async def list_tags(self, repository: str, page_size: int = 0, last: str = "") -> TagPage:
        repo = self._repository(repository)
        tags = sorted(tag for tag in repo.tags if tag > last)
        if page_size and len(tags) > page_size:
            return TagPage(repository=repository, tags=tuple(tags[:page_size]), more=True)
        return TagPage(repository=repository, tags=tuple(tags), more=False)

    async def link_blob(self, repository: str, digest: str, size: int) -> None:
        self.repositories.setdefault(repository, _Repository()).blobs[digest] = size

    async def stat_blob(self, repository: str, digest: str) -> BlobInfo:
        repo = self.repositories.get(repository)
        if repo is None or digest not in repo.blobs:
            raise NotFound(f"blob {digest} is unknown to {repository}", code="BLOB_UNKNOWN")
        return BlobInfo(digest=digest, size=repo.blobs[digest])

    async def serving(self) -> bool:
        return self.healthy


@dataclasses.dataclass
class _Upload:
    owner: str
    data: bytearray = dataclasses.field(default_factory=bytearray)


class FakeBlobstore:
    def __init__(self) -> None:
        self.uploads: dict[str, _Upload] = {}
        self.blobs: dict[str, bytes] = {}
        self.read_chunk = 64 * 1024
        self.healthy = True

    def _upload(self, upload_id: str, owner: str) -> _Upload:
        upload = self.uploads.get(upload_id)
        if upload is None or (owner and upload.owner != owner):
            raise NotFound(f"upload {upload_id} is unknown", code="BLOB_UPLOAD_UNKNOWN")
        return upload

    async def start_upload(self, owner: str) -> str:
        upload_id = uuid.uuid4().hex
        self.uploads[upload_id] = _Upload(owner=owner)
        return upload_id

    async def write(
        self, upload_id: str, offset: int, chunks: AsyncIterable[bytes], *, owner: str = ""
    ) -> int:
        upload = self._upload(upload_id, owner)
        if offset != len(upload.data):
            raise OutOfRange(
                f"write at {offset} refused: the upload holds {len(upload.data)} bytes", code="RANGE_INVALID"
            )
        async for chunk in chunks:
            upload.data += chunk
        return len(upload.data)

    async def query_write_status(self, upload_id: str, *, owner: str = "") -> UploadStatus:
        upload = self._upload(upload_id, owner)
        return UploadStatus(upload_id=upload_id, owner=upload.owner, committed_size=len(upload.data))

    async def commit_upload(self, upload_id: str, digest: str, *, owner: str = "") -> BlobInfo:
        upload = self._upload(upload_id, owner)
        actual = sha256_digest(bytes(upload.data))
        del self.uploads[upload_id]
        if actual != digest:
            raise InvalidArgument(
                f"digest mismatch: content is {actual}, not {digest}", code="DIGEST_INVALID"
            )
        self.blobs[digest] = bytes(upload.data)
        return BlobInfo(digest=digest, size=len(upload.data))

    async def cancel_upload(self, upload_id: str, *, owner: str = "") -> None:
        self._upload(upload_id, owner)
        del self.uploads[upload_id]

    async def read(self, digest: str, offset: int = 0, limit: int = 0) -> AsyncIterator[bytes]:
        if digest not in self.blobs:
            raise NotFound(f"blob {digest} does not exist", code="BLOB_UNKNOWN")
        data = self.blobs[digest]
        end = len(data) if limit == 0 else offset + limit
        if offset > len(data) or end > len(data):
            raise OutOfRange("range outside the blob", code="RANGE_INVALID")
        for start in range(offset, end, self.read_chunk):
            yield data[start : min(start + self.read_chunk, end)]

    async def stat_blob(self, digest: str) -> BlobInfo:
        if digest not in self.blobs:
            raise NotFound(f"blob {digest} does not exist", code="BLOB_UNKNOWN")
        return BlobInfo(digest=digest, size=len(self.blobs[digest]))

    async def serving(self) -> bool:
        return self.healthy
