"""The org audit log: identity's org-scoped events with who, when and why; keys' events from the consumer;
filters and pagination."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from hangar.api.keys.v1 import events_pb2 as keys_events
from hangar.identity.app import App, AuditEvent, to_micros
from hangar.identity.domain import Role
from hangar.identity.subscriptions import KEY_EVENTS, subscriptions
from hangar.kit import context, schema
from hangar.kit.context import ACTOR_HEADER, CORRELATION_HEADER
from hangar.kit.errors import InvalidArgument, NotFound
from hangar.kit.eventstore import EVENT_ID_HEADER, EVENT_TIME_HEADER, EVENT_TYPE_HEADER
from hangar.kit.messaging import PermanentFailure, ReceivedEvent, Subscription

R = Role
PASSWORD = "correct horse battery staple"


def as_admin(correlation: str = "corr-1") -> Any:
    return context.bound(context.CallContext(actor="u-admin", correlation_id=correlation))


async def all_events(app: App, org: str = "acme", **filters: Any) -> list[AuditEvent]:
    page = await app.list_events(org, page_size=1000, **filters)
    assert page.next_page_token == ""
    return list(page.events)


async def story(app: App) -> dict[str, str]:
    """acme's history: created, a team, carol invited and accepted, then removed from the team."""
    created = await app.create_org("acme", "Acme", "ada@example.com", "Ada")
    with as_admin():
        await app.create_team("acme", "vision")
        issued = await app.invite_user("acme", "vision", "carol@example.com", "Carol", [R.REGISTRY_USER])
    carol = (await app.accept_invitation(issued.token, PASSWORD)).user.user_id
    await app.login("carol@example.com", PASSWORD)
    with as_admin("corr-2"):
        await app.remove_user_from_team("acme", "vision", carol)
    return {"ada": created.owner_user_id, "carol": carol, "token": issued.token}


async def test_identity_events_of_an_org_are_in_its_log_with_actor_time_type_and_correlation(
    app: App,
) -> None:
    before = datetime.now(UTC)
    people = await story(app)
    after = datetime.now(UTC)

    events = await all_events(app)

    assert [(e.type.rsplit(".", 1)[-1], e.actor) for e in events] == [
        ("OrgCreated", ""),
        ("RolesChanged", ""),
        ("TeamCreated", "u-admin"),
        ("UserInvited", "u-admin"),
        ("RolesChanged", ""),
        ("InvitationAccepted", ""),
        ("UserRemovedFromTeam", "u-admin"),
        ("UserRemoved", "u-admin"),
    ]
    assert {(e.org, e.service) for e in events} == {("acme", "identity")}
    assert all(e.type.startswith("hangar.identity.v1.") for e in events)
    assert all(before <= e.time <= after for e in events)
    assert [e.time for e in events] == sorted(e.time for e in events)
    assert len({e.event_id for e in events}) == len(events)
    assert [e.correlation_id for e in events if e.actor] == ["corr-1", "corr-1", "corr-2", "corr-2"]
    # Without a caller's correlation id an event is its own correlation.
    assert events[0].correlation_id == events[0].event_id

    invited = json.loads(events[3].payload_json)
    assert invited["email"] == "carol@example.com"
    assert invited["roles"] == ["REGISTRY_USER"]
    assert invited["invited_by"] == "u-admin"
    assert "token_hash" not in invited
    assert people["token"] not in events[3].payload_json
    owner = json.loads(events[1].payload_json)
    assert owner == {
        "org": "acme",
        "org_id": owner["org_id"],
        "roles": ["ORG_OWNER"],
        "team": "",
        "user_id": people["ada"],
    }
    assert json.loads(events[2].payload_json)["team"] == "vision"


async def test_a_persons_own_events_and_other_orgs_stay_out_of_an_orgs_log(app: App) -> None:
    await story(app)
    await app.create_org("globex", "", "gus@example.com", "Gus")

    acme_types = {e.type.rsplit(".", 1)[-1] for e in await all_events(app)}
    assert not acme_types & {"UserRegistered", "PasswordSet", "SessionStarted", "SessionEnded"}
    globex = await all_events(app, "globex")
    assert [e.type.rsplit(".", 1)[-1] for e in globex] == ["OrgCreated", "RolesChanged"]
    assert {e.org for e in globex} == {"globex"}


async def test_the_log_filters_by_type_actor_and_time(app: App) -> None:
    await story(app)
    events = await all_events(app)
    roles_changed = [e for e in events if e.type.endswith(".RolesChanged")]

    assert await all_events(app, types=["RolesChanged"]) == roles_changed
    assert await all_events(app, types=["hangar.identity.v1.RolesChanged"]) == roles_changed
    both = await all_events(app, types=["TeamCreated", "hangar.identity.v1.UserInvited", "KeyRevoked"])
    assert [e.type.rsplit(".", 1)[-1] for e in both] == ["TeamCreated", "UserInvited"]
    assert await all_events(app, types=["hangar.keys.v1.RolesChanged"]) == []
    assert await all_events(app, actor="u-admin") == [e for e in events if e.actor == "u-admin"]
    assert await all_events(app, actor="u-nobody") == []
    since = to_micros(events[3].time)
    assert await all_events(app, since=since) == [e for e in events if to_micros(e.time) >= since]
    assert await all_events(app, since=since, actor="", types=["RolesChanged"]) == [roles_changed[1]]


async def test_the_log_pages_oldest_first_with_opaque_tokens(app: App) -> None:
    await story(app)
    everything = await all_events(app)

    seen: list[AuditEvent] = []
    token = ""
    pages = 0
    while True:
        page = await app.list_events("acme", page_size=3, page_token=token)
        seen.extend(page.events)
        pages += 1
        token = page.next_page_token
        if not token:
            break
        assert "after" not in token  # opaque, not a readable cursor
    assert seen == everything
    assert pages == 3
    assert len((await app.list_events("acme")).events) == len(everything)  # 0 means 100
    assert len((await app.list_events("acme", page_size=5000)).events) == len(everything)  # at most 1000


async def test_a_page_token_stays_valid_as_the_log_grows(app: App) -> None:
    await story(app)
    first = await app.list_events("acme", page_size=7)
    await app.create_team("acme", "audio")

    rest = await app.list_events("acme", page_size=7, page_token=first.next_page_token)
    assert [e.type.rsplit(".", 1)[-1] for e in rest.events] == ["UserRemoved", "TeamCreated"]


def token_of(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("filters", "code"),
    [
        ({"page_size": -1}, "PAGE_SIZE_INVALID"),
        ({"page_token": "not a token!"}, "PAGE_TOKEN_INVALID"),
        ({"page_token": token_of("after:x")}, "PAGE_TOKEN_INVALID"),
        ({"page_token": token_of("ada@example.com")}, "PAGE_TOKEN_INVALID"),
        ({"page_token": "\u00e9\u00e9"}, "PAGE_TOKEN_INVALID"),
        ({"types": ["User Removed"]}, "EVENT_TYPE_INVALID"),
        ({"types": ["x" * 201]}, "EVENT_TYPE_INVALID"),
        ({"types": ["a"] * 51}, "EVENT_TYPE_INVALID"),
        ({"since": -1}, "SINCE_INVALID"),
        ({"since": 10**20}, "SINCE_INVALID"),
        ({"actor": "u" * 201}, "INVALID_ARGUMENT"),
    ],
)
async def test_bad_listing_requests_are_invalid_argument(
    app: App, filters: dict[str, Any], code: str
) -> None:
    await story(app)

    with pytest.raises(InvalidArgument) as refused:
        await app.list_events("acme", **filters)
    assert refused.value.code == code


async def test_the_log_of_an_unknown_or_malformed_org_is_refused(app: App) -> None:
    with pytest.raises(NotFound):
        await app.list_events("globex")
    with pytest.raises(InvalidArgument):
        await app.list_events("Not An Org")


async def test_listing_the_log_writes_nothing(app: App) -> None:
    await story(app)
    async with app.uow(readonly=True) as uow:
        before = (await uow.session.execute(select(func.count()).select_from(schema.events))).scalar_one()

    await app.list_events("acme", types=["RolesChanged"], actor="u-admin", since=1)

    async with app.uow(readonly=True) as uow:
        assert (
            await uow.session.execute(select(func.count()).select_from(schema.events))
        ).scalar_one() == before


# ---------------------------------------------------------------------------------------------------------
# Keys' events, as the consumer hands them over (the NATS path is in test_subscriptions.py)
# ---------------------------------------------------------------------------------------------------------


def received(message: Any, *, event_id: str | None = None, **headers: str) -> ReceivedEvent:
    name = message.DESCRIPTOR.full_name.replace(".api.", ".", 1)
    event_id = event_id or str(uuid.uuid4())
    return ReceivedEvent(
        event_id, name, message, {EVENT_ID_HEADER: event_id, EVENT_TYPE_HEADER: name, **headers}
    )


def route(app: App, event: ReceivedEvent) -> Subscription:
    return next(s for s in subscriptions(app) if s.event_type == event.type)


async def consume(app: App, event: ReceivedEvent) -> None:
    async with app.uow() as uow:
        await route(app, event).handler(event, uow)
        await uow.commit()


def test_identity_subscribes_to_every_keys_event_once() -> None:
    routes = [s for s in subscriptions(App.__new__(App)) if s.event_type.startswith("hangar.keys.")]

    assert [s.event_type for s in routes] == [
        f"hangar.keys.v1.{name}"
        for name in (
            "KeyIssued",
            "KeyRevoked",
            "KeyExpired",
            "KeyRotated",
            "KeyActivated",
            "KeyDeactivated",
            "KeyRenamed",
            "KeyServicesUpdated",
            "KeyScopesUpdated",
            "KeyDeleted",
        )
    ]
    assert [s.message for s in routes] == list(KEY_EVENTS)


async def test_a_keys_event_enters_its_orgs_log_with_the_publishers_actor_time_and_correlation(
    app: App,
) -> None:
    await story(app)
    happened = datetime(2030, 5, 1, 8, 30, 0, 123456, tzinfo=UTC)
    revoked = received(
        keys_events.KeyRevoked(key_id="k1", org="acme", owner_user_id="u-carol", reason="left"),
        **{
            ACTOR_HEADER: "u-admin",
            CORRELATION_HEADER: "corr-keys",
            EVENT_TIME_HEADER: happened.isoformat(),
        },
    )

    await consume(app, revoked)

    (entry,) = await all_events(app, types=["KeyRevoked"])
    assert (entry.event_id, entry.type, entry.service, entry.org) == (
        revoked.event_id,
        "hangar.keys.v1.KeyRevoked",
        "keys",
        "acme",
    )
    assert (entry.actor, entry.correlation_id, entry.time) == ("u-admin", "corr-keys", happened)
    assert json.loads(entry.payload_json) == {
        "key_id": "k1",
        "org": "acme",
        "owner_user_id": "u-carol",
        "reason": "left",
    }
    assert (await all_events(app))[-1] == entry


async def test_a_keys_secret_hash_never_enters_the_log_even_if_published(app: App) -> None:
    await story(app)
    rotated = received(
        keys_events.KeyRotated(
            key_id="k1", org="acme", owner_user_id="u1", prefix="hgr_abc", secret_hash="f" * 64
        )
    )

    await consume(app, rotated)

    (entry,) = await all_events(app, types=["KeyRotated"])
    assert "secret_hash" not in json.loads(entry.payload_json)
    assert "f" * 64 not in entry.payload_json


async def test_the_same_keys_event_enters_the_log_once(app: App) -> None:
    await story(app)
    event = received(keys_events.KeyDeleted(key_id="k1", org="acme", owner_user_id="u1"))

    await consume(app, event)
    await consume(app, event)

    assert len(await all_events(app, types=["KeyDeleted"])) == 1


async def test_a_keys_event_without_a_usable_org_is_terminated(app: App) -> None:
    for org in ("", "Not An Org"):
        event = received(keys_events.KeyDeleted(key_id="k1", org=org, owner_user_id="u1"))
        with pytest.raises(PermanentFailure):
            await consume(app, event)


async def test_a_keys_event_without_a_time_header_is_logged_at_arrival(app: App) -> None:
    await story(app)
    before = datetime.now(UTC) - timedelta(seconds=1)

    await consume(app, received(keys_events.KeyActivated(key_id="k1", org="acme", owner_user_id="u1")))

    (entry,) = await all_events(app, types=["KeyActivated"])
    assert entry.time >= before
    assert entry.actor == ""
