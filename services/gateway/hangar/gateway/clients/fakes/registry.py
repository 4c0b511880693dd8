"""The in-memory registry service: repositories, manifests, tags, blob links, referrers."""

from __future__ import annotations

import dataclasses
import json

from hangar.gateway.clients.fakes._common import sha256_digest
from hangar.gateway.clients.model import (
    BlobInfo,
    DeletedManifest,
    PutManifestResult,
    Referrer,
    RepositoryPage,
    StoredManifest,
    TagPage,
)
from hangar.kit.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
)

MAX_MANIFEST_BYTES = 4 * 1024 * 1024


@dataclasses.dataclass
class _Repository:
    manifests: dict[str, StoredManifest] = dataclasses.field(default_factory=dict)
    tags: dict[str, str] = dataclasses.field(default_factory=dict)
    blobs: dict[str, int] = dataclasses.field(default_factory=dict)
    #: index digest -> the manifests it lists
    children: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)


class FakeRegistry:
    def __init__(self) -> None:
        self.repositories: dict[str, _Repository] = {}
        #: (repository, tag) -> the config blob a version's manifest was pushed with
        self.configs: dict[tuple[str, str], bytes] = {}
        self.healthy = True

    def _repository(self, name: str) -> _Repository:
        if name not in self.repositories:
            raise NotFound(f"repository {name} does not exist", code="NAME_UNKNOWN")
        return self.repositories[name]

    async def put_manifest(
        self, repository: str, reference: str, media_type: str, content: bytes, *, config: bytes = b""
    ) -> PutManifestResult:
        if config:
            self.configs[(repository, reference)] = config
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
        children = tuple(str(child.get("digest", "")) for child in document.get("manifests") or [])
        for child in children:
            if child not in repo.manifests:
                raise FailedPrecondition(f"manifest {child} is unknown", code="MANIFEST_BLOB_UNKNOWN")
        if children:
            repo.children[digest] = children
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

    async def delete_manifest(self, repository: str, reference: str) -> DeletedManifest:
        repo = self._repository(repository)
        if ":" not in reference:
            if reference not in repo.tags:
                raise NotFound(f"manifest {reference} is unknown", code="MANIFEST_UNKNOWN")
            return DeletedManifest(repo.tags.pop(reference), (reference,), manifest_deleted=False)
        if reference not in repo.manifests:
            raise NotFound(f"manifest {reference} is unknown", code="MANIFEST_UNKNOWN")
        parents = sorted(index for index, children in repo.children.items() if reference in children)
        if parents:
            raise FailedPrecondition(
                f"manifest {reference} is listed by index {', '.join(parents)} in {repository}; "
                "delete the index first",
                code="MANIFEST_REFERENCED",
                detail=" ".join(parents),
            )
        tags = tuple(sorted(tag for tag, digest in repo.tags.items() if digest == reference))
        for tag in tags:
            del repo.tags[tag]
        del repo.manifests[reference]
        repo.children.pop(reference, None)
        return DeletedManifest(reference, tags, manifest_deleted=True)

    async def list_tags(self, repository: str, page_size: int = 0, last: str = "") -> TagPage:
        repo = self._repository(repository)
        tags = sorted(tag for tag in repo.tags if tag > last)
        if page_size and len(tags) > page_size:
            return TagPage(repository=repository, tags=tuple(tags[:page_size]), more=True)
        return TagPage(repository=repository, tags=tuple(tags), more=False)

    async def list_referrers(
        self, repository: str, subject_digest: str, artifact_type: str = ""
    ) -> tuple[Referrer, ...]:
        repo = self.repositories.get(repository)
        if repo is None:
            return ()
        found = []
        for digest, stored in sorted(repo.manifests.items()):
            document = json.loads(stored.content)
            if (document.get("subject") or {}).get("digest") != subject_digest:
                continue
            kind = str(document.get("artifactType") or (document.get("config") or {}).get("mediaType", ""))
            if artifact_type and kind != artifact_type:
                continue
            annotations = dict(document.get("annotations") or {})
            found.append(Referrer(stored.media_type, digest, len(stored.content), kind, annotations))
        return tuple(found)

    async def list_repositories(self, page_size: int = 0, last: str = "") -> RepositoryPage:
        names = sorted(name for name in self.repositories if name > last)
        if page_size and len(names) > page_size:
            return RepositoryPage(repositories=tuple(names[:page_size]), more=True)
        return RepositoryPage(repositories=tuple(names), more=False)

    async def link_blob(self, repository: str, digest: str, size: int) -> None:
        self.repositories.setdefault(repository, _Repository()).blobs[digest] = size

    async def stat_blob(self, repository: str, digest: str) -> BlobInfo:
        repo = self.repositories.get(repository)
        if repo is None or digest not in repo.blobs:
            raise NotFound(f"blob {digest} is unknown to {repository}", code="BLOB_UNKNOWN")
        return BlobInfo(digest=digest, size=repo.blobs[digest])

    async def unlink_blob(self, repository: str, digest: str) -> BlobInfo:
        repo = self._repository(repository)
        if digest not in repo.blobs:
            raise NotFound(f"blob {digest} is unknown to {repository}", code="BLOB_UNKNOWN")
        users = sorted(
            stored.digest
            for stored in repo.manifests.values()
            if digest in _named_blobs(json.loads(stored.content))
        )
        if users:
            raise FailedPrecondition(
                f"blob {digest} is used by manifest {', '.join(users)} in {repository}; "
                "delete the manifest first",
                code="BLOB_REFERENCED",
                detail=" ".join(users),
            )
        return BlobInfo(digest=digest, size=repo.blobs.pop(digest))

    async def serving(self) -> bool:
        return self.healthy


def _named_blobs(document: object) -> set[str]:
    """The config and layer digests a manifest names (none for an index)."""
    if not isinstance(document, dict):
        return set()
    descriptors = [document.get("config") or {}, *(document.get("layers") or [])]
    return {str(d["digest"]) for d in descriptors if isinstance(d, dict) and d.get("digest")}
