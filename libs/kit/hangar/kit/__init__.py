"""hangar.kit: the one shared library of Hangar's services (config, db, events, messaging, gRPC, tracing)."""
