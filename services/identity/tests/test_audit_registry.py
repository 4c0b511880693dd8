"""The registry's events about repositories, manifests, tags and versions enter their org's audit log (the org
is the first segment of the repository's name), once, without the fields the registry keeps private."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from hangar.api.registry.v1 import artifact_events_pb2 as artifact_events
from hangar.api.registry.v1 import events_pb2 as registry_events
from hangar.identity.app import App, AuditEvent
from hangar.identity.subscriptions import REGISTRY_EVENTS, subscriptions
from hangar.kit.context import ACTOR_HEADER
from hangar.kit.eventstore import EVENT_ID_HEADER, EVENT_TYPE_HEADER
from hangar.kit.messaging import PermanentFailure, ReceivedEvent


def received(message: Any, **headers: str) -> ReceivedEvent:
    name = message.DESCRIPTOR.full_name.replace(".api.", ".", 1)
    event_id = str(uuid.uuid4())
    return ReceivedEvent(
        event_id, name, message, {EVENT_ID_HEADER: event_id, EVENT_TYPE_HEADER: name, **headers}
    )


async def consume(app: App, event: ReceivedEvent) -> None:
    handler = next(s for s in subscriptions(app) if s.event_type == event.type).handler
    async with app.uow() as uow:
        await handler(event, uow)
        await uow.commit()


async def logged(app: App, org: str, **filters: Any) -> list[AuditEvent]:
    page = await app.list_events(org, page_size=1000, **filters)
    return list(page.events)


def test_identity_subscribes_to_the_registrys_artifact_and_manifest_events() -> None:
    routes = {s.event_type: s.message for s in subscriptions(App.__new__(App))}
    for message in REGISTRY_EVENTS:
        assert routes[message.DESCRIPTOR.full_name.replace(".api.", ".", 1)] is message
    names = {message.DESCRIPTOR.name for message in REGISTRY_EVENTS}
    assert {
        "RepositoryCreated",
        "MetadataUpdated",
        "VersionCreated",
        "FileUploadStarted",
        "FileUploaded",
        "FileRemoved",
        "VersionCommitted",
        "LatestMoved",
        "LatestPolicyChanged",
        "VersionDeleted",
    } <= names
    assert "BlobLinked" not in names


async def test_registry_events_enter_the_log_of_the_repositorys_org(app: App) -> None:
    await app.create_org("acme", "Acme", "ada@example.com", "Ada")
    await app.create_org("other", "Other", "bob@example.com", "Bob")
    events = [
        registry_events.RepositoryCreated(repository="acme/vision/resnet", kind="model"),
        artifact_events.VersionCreated(
            repository="acme/vision/resnet",
            version="1.0",
            kind="model",
            created_by="u-carol",
            inherited=[
                artifact_events.VersionFileRef(path="secret/plan.txt", digest="sha256:" + "a" * 64, size=1)
            ],
        ),
        artifact_events.VersionCommitted(
            repository="acme/vision/resnet", version="1.0", manifest_digest="sha256:" + "b" * 64, size=5
        ),
        artifact_events.MetadataUpdated(
            repository="acme/bert", fields=["overview", "labels"], labels=["nlp"], overview="# internal notes"
        ),
        registry_events.ManifestPushed(
            repository="acme/web", digest="sha256:" + "c" * 64, content=b'{"x":1}'
        ),
        artifact_events.VersionDeleted(repository="other/model", version="2.0"),
    ]
    for message in events:
        await consume(app, received(message, **{ACTOR_HEADER: "u-carol"}))

    acme = await logged(app, "acme", types=["RepositoryCreated", "VersionCreated", "VersionCommitted"])
    assert [(e.type, e.service, e.org) for e in acme] == [
        ("hangar.registry.v1.RepositoryCreated", "registry", "acme"),
        ("hangar.registry.v1.VersionCreated", "registry", "acme"),
        ("hangar.registry.v1.VersionCommitted", "registry", "acme"),
    ]
    assert acme[0].actor == "u-carol"
    created = json.loads(acme[1].payload_json)
    assert created["version"] == "1.0" and "inherited" not in created
    (metadata,) = await logged(app, "acme", types=["MetadataUpdated"])
    assert (
        "overview" not in json.loads(metadata.payload_json) and "internal notes" not in metadata.payload_json
    )
    (pushed,) = await logged(app, "acme", types=["ManifestPushed"])
    assert "content" not in json.loads(pushed.payload_json)
    assert [e.type for e in await logged(app, "other", types=["VersionDeleted"])] == [
        "hangar.registry.v1.VersionDeleted"
    ]
    assert await logged(app, "acme", types=["VersionDeleted"]) == []


async def test_the_same_registry_event_enters_the_log_once(app: App) -> None:
    await app.create_org("acme", "Acme", "ada@example.com", "Ada")
    event = received(artifact_events.LatestMoved(repository="acme/m", version="1.0"))
    await consume(app, event)
    await consume(app, event)
    assert len(await logged(app, "acme", types=["LatestMoved"])) == 1


async def test_a_registry_event_without_a_usable_repository_is_terminated(app: App) -> None:
    for repository in ("", "Not An Org/x"):
        with pytest.raises(PermanentFailure):
            await consume(app, received(artifact_events.LatestMoved(repository=repository, version="1")))
