"""Rules of the keys domain: secrets, services, limits, expiry and the ApiKey lifecycle."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hangar.keys.domain import (
    PERSONAL_KEYS_PER_USER,
    ApiKey,
    KeyExpired,
    KeyIssued,
    KeyRevoked,
    KeySecret,
    KeyStatus,
    KeyType,
    check_legacy_key_limit,
    check_personal_key_limit,
    check_service_key_limit,
    personal_key_expiry,
    validate_key_name,
    validate_services,
)
from hangar.kit.errors import InvalidArgument, LimitExceeded, NotFound, Unauthenticated

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


def issue(
    *, expires_in: timedelta | None = None, services: tuple[str, ...] = ("registry",), name: str = "ci"
) -> tuple[ApiKey, str]:
    return ApiKey.issue_personal(
        key_id="k-1",
        org="acme",
        owner_user_id="u-1",
        name=name,
        services=services,
        now=NOW,
        expires_in=expires_in,
    )


def refusal(key: ApiKey, secret: str, now: datetime = NOW) -> Unauthenticated:
    with pytest.raises(Unauthenticated) as caught:
        key.check_usable(secret, now)
    return caught.value


def wrong_secret_with_same_prefix(secret: str) -> str:
    prefix = KeySecret.prefix_of(secret)
    return f"{prefix}_{'A' * 43}"


# -- secrets ----------------------------------------------------------------------------------------------


def test_generated_secret_has_the_documented_shape() -> None:
    secret, prefix, _ = KeySecret.generate()

    assert re.fullmatch(r"hgr_[A-Za-z0-9]{8}_[A-Za-z0-9_-]{43,}", secret)
    assert prefix == secret[:12]


def test_generated_secrets_are_unique() -> None:
    assert len({KeySecret.generate().secret for _ in range(200)}) == 200


def test_stored_hash_is_the_sha256_of_the_whole_secret() -> None:
    secret, _, secret_hash = KeySecret.generate()

    assert secret_hash == hashlib.sha256(secret.encode()).hexdigest()


def test_prefix_of_a_secret_is_its_lookup_prefix() -> None:
    secret, prefix, _ = KeySecret.generate()

    assert KeySecret.prefix_of(secret) == prefix


def test_secret_verifies_against_its_own_hash_only() -> None:
    secret, _, secret_hash = KeySecret.generate()
    other, _, _ = KeySecret.generate()

    assert KeySecret.verify(secret, secret_hash)
    assert not KeySecret.verify(other, secret_hash)


@pytest.mark.parametrize(
    "presented",
    [
        "",
        "hgr_",
        "hgr_abcd1234",
        "hgr_abcd1234_short",
        "ngc_abcd1234_" + "x" * 43,
        "hgr_abc!1234_" + "x" * 43,
        "hgr_abcd1234_" + "x" * 42 + "!",
        "hgr_abcd1234_" + "x" * 500,
        " hgr_abcd1234_" + "x" * 43,
    ],
)
def test_malformed_secret_is_refused(presented: str) -> None:
    with pytest.raises(Unauthenticated) as caught:
        KeySecret.prefix_of(presented)

    assert caught.value.code == "KEY_MALFORMED"


def test_malformed_secret_is_not_echoed_in_the_refusal() -> None:
    almost = KeySecret.generate().secret + "!"

    with pytest.raises(Unauthenticated) as caught:
        KeySecret.prefix_of(almost)

    assert almost[12:] not in str(caught.value) and almost[12:] not in repr(caught.value)


def test_generated_secret_repr_hides_the_secret() -> None:
    generated = KeySecret.generate()

    assert generated.secret not in repr(generated)
    assert generated.secret not in f"{generated}"


# -- services, names ----------------------------------------------------------------------------------------


def test_unknown_service_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="unknown service 'billing'"):
        validate_services(["registry", "billing"])


def test_key_without_services_is_refused() -> None:
    with pytest.raises(InvalidArgument):
        validate_services([])


def test_services_as_one_string_are_refused() -> None:
    with pytest.raises(InvalidArgument):
        validate_services("registry")


def test_services_are_deduplicated_in_canonical_order() -> None:
    assert validate_services(["admin", "registry", "admin"]) == ("registry", "admin")


@pytest.mark.parametrize("name", ["", "   ", "x" * 65, "line\nbreak", "tab\there", "nul\x00"])
def test_bad_key_name_is_refused(name: str) -> None:
    with pytest.raises(InvalidArgument):
        validate_key_name(name)


def test_key_name_of_64_printable_characters_is_accepted_trimmed() -> None:
    assert validate_key_name("  " + "é" * 64 + " ") == "é" * 64


# -- limits -------------------------------------------------------------------------------------------------


def test_eighth_personal_key_is_allowed() -> None:
    check_personal_key_limit(PERSONAL_KEYS_PER_USER - 1)


def test_ninth_personal_key_is_refused() -> None:
    with pytest.raises(LimitExceeded, match="at most 8 personal keys"):
        check_personal_key_limit(8)


def test_fiftieth_service_key_is_allowed() -> None:
    check_service_key_limit(49)


def test_fifty_first_service_key_is_refused() -> None:
    with pytest.raises(LimitExceeded, match="at most 50 service keys"):
        check_service_key_limit(50)


def test_first_legacy_key_is_allowed() -> None:
    check_legacy_key_limit(0)


def test_second_legacy_key_is_refused() -> None:
    with pytest.raises(LimitExceeded, match="regenerate"):
        check_legacy_key_limit(1)


def test_revoked_and_expired_keys_free_their_slot() -> None:
    holding = {status for status in KeyStatus if status.holds_slot}

    assert holding == {KeyStatus.ACTIVE, KeyStatus.INACTIVE}


# -- expiry -------------------------------------------------------------------------------------------------


def test_expiry_under_one_hour_is_refused() -> None:
    with pytest.raises(InvalidArgument) as caught:
        personal_key_expiry(NOW, timedelta(minutes=59, seconds=59))

    assert caught.value.code == "KEY_EXPIRY_TOO_SHORT"


def test_expiry_of_exactly_one_hour_is_allowed() -> None:
    assert personal_key_expiry(NOW, timedelta(hours=1)) == NOW + timedelta(hours=1)


def test_no_expiry_means_never() -> None:
    assert personal_key_expiry(NOW, None) is None


def test_expiry_beyond_the_calendar_is_refused() -> None:
    with pytest.raises(InvalidArgument):
        personal_key_expiry(NOW, timedelta(days=999_999_999))


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError):
        personal_key_expiry(datetime(2025, 3, 1, 12), None)


def test_expiry_is_kept_in_utc() -> None:
    paris = NOW.astimezone(ZoneInfo("Europe/Paris"))

    expires_at = personal_key_expiry(paris, timedelta(hours=2))

    assert expires_at is not None and expires_at.tzinfo is UTC and expires_at == NOW + timedelta(hours=2)


# -- issuing ------------------------------------------------------------------------------------------------


def test_issuing_records_the_key_with_its_hash_not_its_secret() -> None:
    key, secret = issue(expires_in=timedelta(days=30), services=("admin", "registry"))

    [event] = key.collect()

    assert isinstance(event, KeyIssued)
    assert event.key_type == "personal"
    assert event.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert event.prefix == secret[:12]
    assert event.services == ("registry", "admin")
    assert event.expires_at == NOW + timedelta(days=30)
    assert secret not in repr(event) and event.secret_hash not in repr(event)


def test_issued_key_is_active_with_version_one() -> None:
    key, _ = issue()

    assert key.status is KeyStatus.ACTIVE
    assert key.view.key_type is KeyType.PERSONAL
    assert key.version == 1 and key.loaded_version == 0
    assert key.stream_id == "key-k-1"


def test_issuing_with_an_unknown_service_is_refused() -> None:
    with pytest.raises(InvalidArgument):
        issue(services=("registry", "everything"))


def test_secret_is_not_in_the_key_repr() -> None:
    key, secret = issue()
    view = key.view

    for text in (repr(key), repr(view), str(view), repr(key.collect())):
        assert secret not in text
        assert view.secret_hash not in text


def test_unissued_key_is_not_found() -> None:
    with pytest.raises(NotFound):
        ApiKey("k-404").revoke("user request")


# -- using --------------------------------------------------------------------------------------------------


def test_issued_key_is_usable_with_its_secret() -> None:
    key, secret = issue(expires_in=timedelta(hours=1))

    assert key.check_usable(secret, NOW + timedelta(minutes=59)).key_id == "k-1"


def test_wrong_secret_with_right_prefix_is_refused() -> None:
    key, secret = issue()
    wrong = wrong_secret_with_same_prefix(secret)

    error = refusal(key, wrong)

    assert error.code == "KEY_INVALID"
    assert wrong not in str(error) and secret not in str(error)


def test_revoked_key_is_refused() -> None:
    key, secret = issue()
    key.revoke("user request")

    assert refusal(key, secret).code == "KEY_REVOKED"


def test_expired_key_is_refused_with_when() -> None:
    key, secret = issue(expires_in=timedelta(hours=2))

    error = refusal(key, secret, NOW + timedelta(days=1))

    assert error.code == "KEY_EXPIRED"
    assert "2025-03-01T14:00:00Z" in str(error)


def test_key_is_refused_at_the_instant_it_expires() -> None:
    key, secret = issue(expires_in=timedelta(hours=1))

    assert refusal(key, secret, NOW + timedelta(hours=1)).code == "KEY_EXPIRED"


def test_key_without_expiry_is_usable_decades_later() -> None:
    key, secret = issue(expires_in=None)

    key.check_usable(secret, NOW + timedelta(days=365 * 50))


def test_inactive_key_is_refused() -> None:
    key, secret = issue()
    inactive = replace(key.view, status=KeyStatus.INACTIVE)

    with pytest.raises(Unauthenticated) as caught:
        inactive.check_usable(secret, NOW)

    assert caught.value.code == "KEY_INACTIVE"


def test_wrong_secret_on_a_revoked_key_reveals_nothing_about_its_state() -> None:
    key, secret = issue()
    key.revoke("user request")

    assert refusal(key, wrong_secret_with_same_prefix(secret)).code == "KEY_INVALID"


# -- revoking and expiring ----------------------------------------------------------------------------------


def test_revoking_records_key_revoked_with_the_reason() -> None:
    key, _ = issue()
    key.collect()

    key.revoke("  user left the org ")

    assert key.collect() == [
        KeyRevoked(key_id="k-1", org="acme", owner_user_id="u-1", reason="user left the org")
    ]


def test_revoking_a_revoked_key_records_nothing() -> None:
    key, _ = issue()
    key.revoke("user request")
    key.collect()

    key.revoke("again")

    assert key.collect() == []


def test_revoking_without_a_reason_is_refused() -> None:
    key, _ = issue()

    with pytest.raises(InvalidArgument):
        key.revoke("  ")


def test_expire_records_key_expired_at_the_expiry_not_at_now() -> None:
    key, _ = issue(expires_in=timedelta(hours=3))
    key.collect()

    key.expire(NOW + timedelta(days=2))

    assert key.collect() == [
        KeyExpired(key_id="k-1", org="acme", owner_user_id="u-1", expired_at=NOW + timedelta(hours=3))
    ]
    assert key.status is KeyStatus.EXPIRED


def test_expire_before_expiry_records_nothing() -> None:
    key, _ = issue(expires_in=timedelta(hours=3))
    key.collect()

    key.expire(NOW + timedelta(hours=2, minutes=59))

    assert key.collect() == []


def test_expire_on_a_key_that_never_expires_records_nothing() -> None:
    key, _ = issue(expires_in=None)
    key.collect()

    key.expire(NOW + timedelta(days=365 * 100))

    assert key.collect() == []


def test_expiring_twice_records_once() -> None:
    key, _ = issue(expires_in=timedelta(hours=1))
    key.collect()

    key.expire(NOW + timedelta(hours=2))
    key.expire(NOW + timedelta(hours=3))

    assert len(key.collect()) == 1


def test_expire_after_revoke_records_nothing() -> None:
    key, _ = issue(expires_in=timedelta(hours=1))
    key.revoke("user request")
    key.collect()

    key.expire(NOW + timedelta(hours=2))

    assert key.collect() == [] and key.status is KeyStatus.REVOKED


def test_revoking_an_expired_key_records_the_revocation() -> None:
    key, _ = issue(expires_in=timedelta(hours=1))
    key.expire(NOW + timedelta(hours=2))
    key.collect()

    key.revoke("user left the org")

    assert [type(event) for event in key.collect()] == [KeyRevoked]
    assert key.status is KeyStatus.REVOKED


# -- rehydrating --------------------------------------------------------------------------------------------


def test_rehydrating_from_events_gives_the_same_state() -> None:
    key, _ = issue(expires_in=timedelta(hours=1))
    key.expire(NOW + timedelta(hours=2))
    key.revoke("user request")
    events = key.collect()

    again = ApiKey.rehydrate("k-1", events)

    assert again.view == key.view
    assert again.version == 3 and again.loaded_version == 3 and again.collect() == []


def test_rehydrated_key_accepts_its_secret() -> None:
    key, secret = issue()

    again = ApiKey.rehydrate("k-1", key.collect())

    again.check_usable(secret, NOW)


def test_applying_an_unknown_event_is_a_bug() -> None:
    with pytest.raises(TypeError):
        ApiKey.rehydrate("k-1", [object()])  # type: ignore[list-item]
