"""ListOrgKeys: an org's member and service keys, filtered, live unless asked, in pages with opaque tokens."""

from __future__ import annotations

from typing import Any

import pytest

from hangar.keys.app import App
from hangar.keys.domain import MAX_PAGE_SIZE, KeyScope, KeyStatus, KeyType, PageCursor, page_limit
from hangar.kit.errors import InvalidArgument


async def personal(app: App, user: str, name: str, org: str = "acme", expires: int | None = None) -> Any:
    view, _ = await app.issue_personal_key(org, user, name, ["registry"], expires)
    return view


async def service(app: App, name: str, org: str = "acme") -> Any:
    view, _ = await app.issue_service_key(org, name, ["registry"], [KeyScope(("get",))], None, "u-admin")
    return view


async def all_pages(app: App, **kwargs: Any) -> list[list[str]]:
    pages, token = [], ""
    while True:
        page = await app.list_org_keys("acme", page_token=token, **kwargs)
        pages.append([k.name for k in page.keys])
        token = page.next_page_token
        if not token:
            return pages


async def test_org_keys_are_members_and_service_keys_oldest_first(app: App, clock: Any) -> None:
    await personal(app, "u-1", "one")
    clock.advance(1)
    await service(app, "bot")
    clock.advance(1)
    await personal(app, "u-2", "two")
    await personal(app, "u-1", "elsewhere", org="other")
    clock.advance(1)
    await app.issue_legacy_key("acme", "u-2")

    page = await app.list_org_keys("acme")

    assert [(k.name, k.key_type) for k in page.keys] == [
        ("one", KeyType.PERSONAL),
        ("bot", KeyType.SERVICE),
        ("two", KeyType.PERSONAL),
        ("legacy key", KeyType.LEGACY),
    ]
    assert page.next_page_token == ""
    only_u2 = await app.list_org_keys("acme", user_id="u-2")
    assert [k.name for k in only_u2.keys] == ["two", "legacy key"]
    assert (await app.list_org_keys("acme", user_id="nobody")).keys == ()
    assert (await app.list_org_keys("empty")).keys == ()


async def test_dead_keys_are_listed_only_when_asked(app: App, clock: Any) -> None:
    live = await personal(app, "u-1", "live")
    clock.advance(1)
    inactive = await personal(app, "u-1", "inactive")
    await app.set_key_active(inactive.key_id, False)
    clock.advance(1)
    revoked = await personal(app, "u-1", "revoked")
    await app.revoke_key(revoked.key_id, "leaked")
    clock.advance(1)
    deleted = await personal(app, "u-1", "deleted")
    await app.delete_key(deleted.key_id)
    clock.advance(1)
    await personal(app, "u-1", "expired", expires=3600)
    clock.advance(3600)  # past its expiry, not yet recorded

    listed = await app.list_org_keys("acme")
    assert [(k.name, k.status) for k in listed.keys] == [
        ("live", KeyStatus.ACTIVE),
        ("inactive", KeyStatus.INACTIVE),
    ]
    everything = await app.list_org_keys("acme", include_dead=True)
    assert [(k.name, k.status) for k in everything.keys] == [
        ("live", KeyStatus.ACTIVE),
        ("inactive", KeyStatus.INACTIVE),
        ("revoked", KeyStatus.REVOKED),
        ("deleted", KeyStatus.REVOKED),
        ("expired", KeyStatus.EXPIRED),
    ]
    assert live.key_id == everything.keys[0].key_id


async def test_pages_cover_every_key_once_even_with_equal_creation_times(app: App, clock: Any) -> None:
    names = []
    for i in range(7):
        if i % 3 == 0:
            clock.advance(1)  # several keys share a creation time: the key id breaks ties
        names.append((await personal(app, f"u-{i}", f"k{i}")).name)

    pages = await all_pages(app, page_size=3)

    assert [len(p) for p in pages] == [3, 3, 1]
    listed = [name for page in pages for name in page]
    assert sorted(listed) == sorted(names)
    assert await all_pages(app, page_size=7) == [listed]


async def test_page_size_defaults_to_100_and_is_capped_at_1000(app: App) -> None:
    for i in range(101):
        await service(app, f"bot {i}") if i < 50 else await personal(app, f"u-{i}", f"k{i}")

    first = await app.list_org_keys("acme")
    assert len(first.keys) == 100 and first.next_page_token
    rest = await app.list_org_keys("acme", page_token=first.next_page_token)
    assert len(rest.keys) == 1 and rest.next_page_token == ""
    assert len((await app.list_org_keys("acme", page_size=5000)).keys) == 101
    assert page_limit(0) == 100 and page_limit(5000) == MAX_PAGE_SIZE == 1000


async def test_bad_pages_are_refused(app: App) -> None:
    await personal(app, "u-1", "a")
    await personal(app, "u-1", "b")
    token = (await app.list_org_keys("acme", page_size=1)).next_page_token

    cases: list[tuple[dict[str, Any], str]] = [
        ({"page_size": -1}, "PAGE_SIZE_INVALID"),
        ({"page_token": "%%%"}, "PAGE_TOKEN_INVALID"),
        ({"page_token": "e30"}, "PAGE_TOKEN_INVALID"),  # "{}"
        ({"page_token": token, "include_dead": True}, "PAGE_TOKEN_INVALID"),  # another query's token
        ({"page_token": token, "user_id": "u-1"}, "PAGE_TOKEN_INVALID"),
    ]
    for kwargs, code in cases:
        with pytest.raises(InvalidArgument) as caught:
            await app.list_org_keys("acme", **kwargs)
        assert caught.value.code == code, kwargs
    with pytest.raises(InvalidArgument):
        await app.list_org_keys("")


def test_a_page_cursor_round_trips_to_the_microsecond() -> None:
    from datetime import UTC, datetime

    cursor = PageCursor(datetime(2025, 3, 1, 12, 0, 0, 999_999, tzinfo=UTC), "k-1")

    assert PageCursor.from_token(cursor.token("q"), "q") == cursor
    assert PageCursor.from_token("", "q") is None
