"""The repository use cases of ArtifactApp: create, change metadata, read, search, and point `latest`."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection, Mapping
from typing import Any, Final

from hangar.kit.errors import AlreadyExists, InvalidArgument
from hangar.kit.paging import decode_page_token, encode_page_token, page_limit
from hangar.kit.uow import UnitOfWorkFactory, retry_on_conflict
from hangar.registry.artifacts.aggregates import _flush, _lock_artifact_repository, _name_unknown
from hangar.registry.artifacts.ports import ArtifactViews, RepositoryRecord, SearchFilter
from hangar.registry.domain.artifacts import ArtifactRepository
from hangar.registry.domain.metadata import ARTIFACT_KINDS, RepositoryMetadata, normalise_label
from hangar.registry.domain.names import validate_repository_name
from hangar.registry.domain.quoting import quote
from hangar.registry.domain.repository import REPOSITORY_KINDS
from hangar.registry.domain.versions import COMMITTED, validate_version_name

MAX_NAMESPACES: Final = 100
MAX_PATTERN: Final = 255
_NAMESPACE = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)?")


class RepositoryCommands:
    """Repositories of models, resources and charts: metadata, search, `latest`."""

    uow: UnitOfWorkFactory[ArtifactViews]

    async def create_repository(
        self, name: str, kind: str, metadata: RepositoryMetadata, latest_policy: str = ""
    ) -> RepositoryRecord:
        ArtifactRepository.create(name, kind, metadata, latest_policy)  # validates before any I/O

        async def command() -> RepositoryRecord:
            async with self.uow() as uow:
                if await uow.views.lock_repository(name) is not None:
                    raise AlreadyExists(f"repository {quote(name)} already exists", code="REPOSITORY_EXISTS")
                fresh = ArtifactRepository.create(name, kind, metadata, latest_policy)
                await uow.events.append(fresh.stream_id, 0, fresh.collect())
                record = await uow.views.artifact_repository(name)
                await uow.commit()
            assert record is not None
            return record

        return await retry_on_conflict(command)

    async def update_repository(
        self, name: str, metadata: RepositoryMetadata, fields: Collection[str]
    ) -> RepositoryRecord:
        validate_repository_name(name)

        async def command() -> RepositoryRecord:
            async with self.uow() as uow:
                artifacts = await _lock_artifact_repository(uow, name)
                artifacts.update_metadata(metadata, fields)
                await _flush(uow, artifacts)
                record = await uow.views.artifact_repository(name)
                await uow.commit()
            assert record is not None
            return record

        return await retry_on_conflict(command)

    async def get_repository(self, name: str) -> RepositoryRecord:
        validate_repository_name(name)
        async with self.uow(readonly=True) as uow:
            record = await uow.views.artifact_repository(name)
        if record is None:
            raise _name_unknown(name)
        return record

    async def search_repositories(
        self,
        *,
        namespaces: Collection[str] = (),
        all_namespaces: bool = False,
        kind: str = "",
        name_pattern: str = "",
        labels: Collection[str] = (),
        page_size: int = 0,
        page_token: str = "",
    ) -> tuple[list[RepositoryRecord], str]:
        """Repositories by name after the token, filtered; the next page's token ("" at the end)."""
        limit = page_limit(page_size)
        if len(namespaces) > MAX_NAMESPACES:
            raise InvalidArgument(f"search at most {MAX_NAMESPACES} namespaces at once", code="NAME_INVALID")
        for namespace in namespaces:
            if not _NAMESPACE.fullmatch(namespace):
                raise InvalidArgument(
                    f"namespace {quote(namespace)} is not an org or org/team", code="NAME_INVALID"
                )
        if kind and kind not in REPOSITORY_KINDS:
            raise InvalidArgument(
                f"kind {quote(kind)} is not one of {', '.join(sorted(REPOSITORY_KINDS))}", code="KIND_INVALID"
            )
        if len(name_pattern) > MAX_PATTERN:
            raise InvalidArgument(
                f"the name pattern is longer than {MAX_PATTERN} characters", code="NAME_INVALID"
            )
        search = SearchFilter(
            namespaces=frozenset(namespaces),
            all_namespaces=all_namespaces,
            kind=kind,
            name_pattern=name_pattern.lower(),
            labels=tuple(sorted({normalise_label(label) for label in labels})),
        )
        cursor = decode_page_token(page_token, search.fingerprint())
        after = cursor.get("after") if cursor else None
        if after is not None and not isinstance(after, str):
            raise InvalidArgument(
                "the page token is not one this listing handed out", code="PAGE_TOKEN_INVALID"
            )
        if not search.all_namespaces and not search.namespaces:
            return [], ""
        async with self.uow(readonly=True) as uow:
            found, scanned_to = await uow.views.search_repositories(search, after=after, limit=limit + 1)
        if len(found) > limit:
            return found[:limit], encode_page_token({"after": found[limit - 1].name}, search.fingerprint())
        if scanned_to is not None:
            return found, encode_page_token({"after": scanned_to}, search.fingerprint())
        return found, ""

    async def set_latest(self, name: str, version: str, auto: bool) -> RepositoryRecord:
        validate_repository_name(name)
        if not auto:
            validate_version_name(version)

        async def command() -> RepositoryRecord:
            async with self.uow() as uow:
                artifacts = await _lock_artifact_repository(uow, name)
                if auto:
                    artifacts.set_auto()
                else:
                    found = (
                        await uow.views.version(name, version) if artifacts.kind in ARTIFACT_KINDS else None
                    )
                    artifacts.set_latest(version, committed=found is not None and found.status == COMMITTED)
                await _flush(uow, artifacts)
                record = await uow.views.artifact_repository(name)
                await uow.commit()
            assert record is not None
            return record

        return await retry_on_conflict(command)


def metadata_fields(values: Mapping[str, Any]) -> RepositoryMetadata:
    """RepositoryMetadata from a mapping of its field names (unknown names ignored)."""
    names = {f.name for f in dataclasses.fields(RepositoryMetadata)}
    picked = {k: v for k, v in values.items() if k in names}
    if "labels" in picked:
        picked["labels"] = tuple(picked["labels"])
    return RepositoryMetadata(**picked)
