"""hangar.keys: API keys for machines and CLIs (issue, rotate, (de)activate, revoke, expire, authenticate)."""
