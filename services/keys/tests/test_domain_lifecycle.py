"""The ApiKey lifecycle beyond issue/revoke: service and legacy keys, rename, (de)activate, rotate, update,
delete; which key types allow what; and state rebuilt from the events."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from hangar.keys.domain import (
    LEGACY_KEY_SERVICES,
    ApiKey,
    KeyActivated,
    KeyDeactivated,
    KeyDeleted,
    KeyIssued,
    KeyRenamed,
    KeyRevoked,
    KeyRotated,
    KeyScope,
    KeyScopesUpdated,
    KeySecret,
    KeyServicesUpdated,
    KeyStatus,
    KeyType,
    lifetime_of,
)
from hangar.kit.errors import FailedPrecondition, InvalidArgument, NotFound, Unauthenticated

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
SCOPES = (
    KeyScope(("get", "list"), ("model",), team="vision"),
    KeyScope(("push",), (), repository="acme/bert"),
)


def personal(expires_in: timedelta | None = None) -> tuple[ApiKey, str]:
    key, secret = ApiKey.issue_personal("k-1", "acme", "u-1", "ci", ("registry",), NOW, expires_in)
    key.collect()
    return key, secret


def service(expires_in: timedelta | None = None) -> tuple[ApiKey, str]:
    key, secret = ApiKey.issue_service(
        "k-2", "acme", "deploy bot", ("registry",), SCOPES, NOW, expires_in, created_by="u-admin"
    )
    key.collect()
    return key, secret


def legacy() -> tuple[ApiKey, str]:
    key, secret = ApiKey.issue_legacy("k-3", "acme", "u-1", NOW)
    key.collect()
    return key, secret


def code_of(error_type: type[Exception], action: Callable[[], object]) -> str:
    with pytest.raises(error_type) as caught:
        action()
    return str(getattr(caught.value, "code", ""))


# -- issuing service and legacy keys ------------------------------------------------------------------------


def test_a_service_key_belongs_to_the_org_with_its_scopes_and_creator() -> None:
    key, secret = ApiKey.issue_service(
        "k-2", "acme", "deploy bot", ("registry",), SCOPES, NOW, timedelta(days=90), created_by="u-admin"
    )

    [event] = key.collect()
    assert isinstance(event, KeyIssued)
    assert (event.key_type, event.owner_user_id, event.created_by) == ("service", "", "u-admin")
    assert event.scopes == SCOPES
    assert event.expires_at == NOW + timedelta(days=90)
    assert key.view.scopes == SCOPES and key.view.key_type is KeyType.SERVICE
    assert key.check_usable(secret, NOW).scopes == SCOPES


def test_a_service_key_refuses_bad_scopes_a_short_life_and_a_missing_creator() -> None:
    def issue(**overrides: object) -> object:
        args: dict[str, object] = {
            "key_id": "k-2",
            "org": "acme",
            "name": "bot",
            "services": ("registry",),
            "scopes": SCOPES,
            "now": NOW,
            "expires_in": None,
            "created_by": "u-admin",
            **overrides,
        }
        return ApiKey.issue_service(**args)  # type: ignore[arg-type]

    assert code_of(InvalidArgument, lambda: issue(scopes=())) == "SCOPE_INVALID"
    assert code_of(InvalidArgument, lambda: issue(scopes=(KeyScope(("get",), repository="evil/x"),))) == (
        "SCOPE_INVALID"
    )
    assert code_of(InvalidArgument, lambda: issue(expires_in=timedelta(minutes=5))) == "KEY_EXPIRY_TOO_SHORT"
    assert code_of(InvalidArgument, lambda: issue(services=())) == "KEY_SERVICES_EMPTY"
    with pytest.raises(InvalidArgument, match="created_by"):
        issue(created_by="")


def test_a_legacy_key_has_every_service_and_never_expires() -> None:
    key, secret = ApiKey.issue_legacy("k-3", "acme", "u-1", NOW)

    view = key.view
    assert view.key_type is KeyType.LEGACY
    assert view.services == LEGACY_KEY_SERVICES == ("registry", "admin")
    assert view.expires_at is None and view.created_by == "u-1"
    key.check_usable(secret, NOW + timedelta(days=365 * 30))


def test_a_personal_key_is_created_by_its_owner() -> None:
    key, _ = personal()

    assert key.view.created_by == "u-1" and key.view.scopes == ()


def test_lifetimes_in_seconds() -> None:
    assert lifetime_of(None) is None and lifetime_of(0) is None
    assert lifetime_of(3600) == timedelta(hours=1)
    assert code_of(InvalidArgument, lambda: lifetime_of(-1)) == "KEY_EXPIRY_INVALID"
    assert code_of(InvalidArgument, lambda: lifetime_of(2**63 - 1)) == "KEY_EXPIRY_INVALID"


# -- rename, (de)activate, services, scopes ----------------------------------------------------------------


def test_rename_records_the_trimmed_name_once() -> None:
    key, _ = personal()

    key.rename("  nightly build ", NOW)
    key.rename("nightly build", NOW)

    assert key.collect() == [KeyRenamed(key_id="k-1", org="acme", owner_user_id="u-1", name="nightly build")]
    assert code_of(InvalidArgument, lambda: key.rename(" ", NOW)) == "KEY_NAME_INVALID"


def test_deactivate_refuses_the_secret_at_once_and_activate_lets_it_in_again() -> None:
    key, secret = personal()

    key.deactivate(NOW)
    key.deactivate(NOW)
    assert key.status is KeyStatus.INACTIVE
    assert code_of(Unauthenticated, lambda: key.check_usable(secret, NOW)) == "KEY_INACTIVE"

    key.set_active(True, NOW)
    key.activate(NOW)
    key.check_usable(secret, NOW)
    assert [type(e) for e in key.collect()] == [KeyDeactivated, KeyActivated]


def test_update_services_replaces_them_and_refuses_none() -> None:
    key, _ = personal()

    key.update_services(["admin", "registry"], NOW)
    key.update_services(["registry", "admin"], NOW)

    assert key.collect() == [
        KeyServicesUpdated(key_id="k-1", org="acme", owner_user_id="u-1", services=("registry", "admin"))
    ]
    assert code_of(InvalidArgument, lambda: key.update_services([], NOW)) == "KEY_SERVICES_EMPTY"
    assert code_of(InvalidArgument, lambda: key.update_services(["billing"], NOW)) == "KEY_SERVICE_UNKNOWN"


def test_update_scopes_replaces_a_service_keys_scopes_in_canonical_form() -> None:
    key, _ = service()

    key.update_scopes([KeyScope(("delete", "get"), ("chart",))], NOW)
    key.update_scopes([KeyScope(("get", "delete"), ("chart",))], NOW)

    assert key.collect() == [
        KeyScopesUpdated(
            key_id="k-2", org="acme", owner_user_id="", scopes=(KeyScope(("get", "delete"), ("chart",)),)
        )
    ]
    assert code_of(InvalidArgument, lambda: key.update_scopes([], NOW)) == "SCOPE_INVALID"


def test_scopes_are_for_service_keys_only() -> None:
    for key, _ in (personal(), legacy()):
        error = code_of(FailedPrecondition, lambda key=key: key.update_scopes(SCOPES, NOW))  # type: ignore[misc]
        assert error == "KEY_TYPE_MISMATCH"


@pytest.mark.parametrize(
    "operation",
    [
        lambda key: key.rename("x", NOW),
        lambda key: key.activate(NOW),
        lambda key: key.deactivate(NOW),
        lambda key: key.rotate(NOW),
        lambda key: key.update_services(["registry"], NOW),
    ],
)
def test_a_legacy_key_can_only_be_regenerated_or_deleted(operation: Callable[[ApiKey], object]) -> None:
    key, _ = legacy()

    assert code_of(FailedPrecondition, lambda: operation(key)) == "KEY_TYPE_MISMATCH"
    assert key.collect() == []


# -- rotation -----------------------------------------------------------------------------------------------


def test_rotation_keeps_the_id_and_kills_the_old_secret() -> None:
    key, old = service(timedelta(days=30))
    before = key.view

    new = key.rotate(NOW + timedelta(days=1))

    [event] = key.collect()
    assert isinstance(event, KeyRotated)
    assert (event.key_id, event.org, event.owner_user_id) == ("k-2", "acme", "")
    assert event.prefix == new[:12] != old[:12]
    assert event.secret_hash == KeySecret.hash_of(new)
    assert new not in repr(event) and event.secret_hash not in repr(event)
    assert key.id == "k-2" and key.view.prefix == new[:12]
    assert code_of(Unauthenticated, lambda: key.check_usable(old, NOW)) == "KEY_INVALID"
    assert key.check_usable(new, NOW).key_id == "k-2"
    unchanged = ("name", "services", "scopes", "status", "expires_at", "created_at", "created_by")
    assert all(getattr(key.view, field) == getattr(before, field) for field in unchanged)


def test_an_inactive_key_may_be_rotated_and_stays_inactive() -> None:
    key, _ = personal()
    key.deactivate(NOW)

    secret = key.rotate(NOW)

    assert code_of(Unauthenticated, lambda: key.check_usable(secret, NOW)) == "KEY_INACTIVE"


# -- dead and deleted keys ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "operation",
    [
        lambda key: key.rename("x", NOW + timedelta(hours=2)),
        lambda key: key.activate(NOW + timedelta(hours=2)),
        lambda key: key.deactivate(NOW + timedelta(hours=2)),
        lambda key: key.rotate(NOW + timedelta(hours=2)),
        lambda key: key.update_services(["admin"], NOW + timedelta(hours=2)),
    ],
)
def test_a_revoked_or_expired_key_refuses_changes(operation: Callable[[ApiKey], object]) -> None:
    expired, _ = personal(timedelta(hours=1))  # past its expiry at NOW + 2h, recorded or not
    revoked, _ = personal()
    revoked.revoke("leaked")
    revoked.collect()

    assert code_of(FailedPrecondition, lambda: operation(expired)) == "KEY_EXPIRED"
    assert code_of(FailedPrecondition, lambda: operation(revoked)) == "KEY_REVOKED"
    assert expired.collect() == [] and revoked.collect() == []


def test_delete_revokes_a_live_key_then_hides_it() -> None:
    key, secret = personal()

    key.delete()

    assert key.collect() == [
        KeyRevoked(key_id="k-1", org="acme", owner_user_id="u-1", reason="deleted"),
        KeyDeleted(key_id="k-1", org="acme", owner_user_id="u-1"),
    ]
    assert key.view.deleted and key.status is KeyStatus.REVOKED
    assert code_of(Unauthenticated, lambda: key.check_usable(secret, NOW)) == "KEY_REVOKED"


def test_deleting_a_revoked_key_records_only_the_deletion() -> None:
    key, _ = personal()
    key.revoke("leaked")
    key.collect()

    key.delete()

    assert [type(e) for e in key.collect()] == [KeyDeleted]


@pytest.mark.parametrize(
    "operation",
    [
        lambda key: key.delete(),
        lambda key: key.revoke("again"),
        lambda key: key.rename("x", NOW),
        lambda key: key.activate(NOW),
        lambda key: key.rotate(NOW),
    ],
)
def test_a_deleted_key_is_not_found(operation: Callable[[ApiKey], object]) -> None:
    key, _ = personal()
    key.delete()
    key.collect()

    assert code_of(NotFound, lambda: operation(key)) == "KEY_NOT_FOUND"


def test_a_deleted_key_records_no_expiry() -> None:
    key, _ = personal(timedelta(hours=1))
    key.delete()
    key.collect()

    key.expire(NOW + timedelta(hours=2))

    assert key.collect() == []


# -- rehydrating --------------------------------------------------------------------------------------------


def test_every_event_rehydrates_to_the_same_state() -> None:
    key, _ = ApiKey.issue_service("k-2", "acme", "bot", ("registry",), SCOPES, NOW, None, created_by="u-9")
    key.rename("bot 2", NOW)
    key.deactivate(NOW)
    key.activate(NOW)
    secret = key.rotate(NOW)
    key.update_services(["admin"], NOW)
    key.update_scopes([KeyScope(("delete",), ("container",))], NOW)
    key.delete()
    events = key.collect()

    again = ApiKey.rehydrate("k-2", events)

    assert again.view == key.view
    assert again.version == len(events) == 9
    assert again.view.scopes == (KeyScope(("delete",), ("container",)),)
    assert again.view.prefix == secret[:12] and again.view.deleted


def test_an_event_from_before_created_by_rehydrates_as_issued_by_the_owner() -> None:
    generated = KeySecret.generate()
    old = KeyIssued(
        key_id="k-1",
        key_type="personal",
        org="acme",
        owner_user_id="u-1",
        name="ci",
        prefix=generated.prefix,
        secret_hash=generated.secret_hash,
        services=("registry",),
        created_at=NOW,
        expires_at=None,
    )

    view = ApiKey.rehydrate("k-1", [old]).view

    assert view.created_by == "u-1" and view.scopes == ()
