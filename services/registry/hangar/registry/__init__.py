"""hangar.registry: repositories, manifests and tags of the OCI registry (the distribution-spec rules)."""
