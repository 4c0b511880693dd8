"""The composition root's pieces: settings from HANGAR_* variables, the listening socket, the port file."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from hangar.gateway.main import Settings, bind, write_port_file


def test_settings_come_from_hangar_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANGAR_IDENTITY_ADDR", "127.0.0.1:7001")
    monkeypatch.setenv("HANGAR_HTTP_PORT", "0")
    monkeypatch.setenv("HANGAR_PUBLIC_URL", "https://registry.example.com")
    monkeypatch.setenv("HANGAR_TOKEN_KEY_FILE", "/secrets/token.pem")
    settings = Settings()
    assert settings.identity_addr == "127.0.0.1:7001"
    assert settings.http_port == 0 and settings.http_host == "127.0.0.1"
    assert settings.public_url == "https://registry.example.com"
    assert settings.token_key_file == "/secrets/token.pem"
    assert settings.token_ttl_seconds == 300
    assert settings.missing_addresses() == [
        "HANGAR_KEYS_ADDR",
        "HANGAR_REGISTRY_ADDR",
        "HANGAR_BLOBSTORE_ADDR",
    ]


def test_tokens_may_not_live_under_a_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANGAR_TOKEN_TTL_SECONDS", "30")
    with pytest.raises(ValueError):
        Settings()


def test_port_zero_binds_a_free_port_that_is_written_to_the_port_file(tmp_path: Path) -> None:
    sock = bind("127.0.0.1", 0)
    try:
        port = sock.getsockname()[1]
        assert port > 0
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass
        write_port_file(tmp_path / "run" / "gateway.port", port)
        assert (tmp_path / "run" / "gateway.port").read_text() == str(port)
    finally:
        sock.close()
