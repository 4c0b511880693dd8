"""hangar.gateway: the only public edge — OCI distribution API at /v2/, the token service, health."""
