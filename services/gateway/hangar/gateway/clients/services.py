"""The four internal services the gateway talks to, held together and connected from their addresses."""

from __future__ import annotations

import asyncio
import dataclasses

import grpc

from hangar.gateway.clients.artifacts import ArtifactsClient, ArtifactsPort
from hangar.gateway.clients.blobstore import BlobstoreClient
from hangar.gateway.clients.identity import IdentityClient
from hangar.gateway.clients.keys import KeysClient
from hangar.gateway.clients.ports import BlobstorePort, IdentityPort, KeysPort, RegistryPort
from hangar.gateway.clients.registry import RegistryClient
from hangar.kit.grpcio import channel


@dataclasses.dataclass
class Services:
    identity: IdentityPort
    keys: KeysPort
    registry: RegistryPort
    blobstore: BlobstorePort
    channels: tuple[grpc.aio.Channel, ...] = ()
    #: The registry's ArtifactService (models, resources, charts); None where a test has no fake of it.
    artifacts: ArtifactsPort | None = None

    @classmethod
    def connect(cls, *, identity: str, keys: str, registry: str, blobstore: str) -> Services:
        """Clients over one channel per service (host:port each); channels connect lazily."""
        addresses = {"identity": identity, "keys": keys, "registry": registry, "blobstore": blobstore}
        channels = {name: channel(address) for name, address in addresses.items()}
        return cls(
            identity=IdentityClient(channels["identity"]),
            keys=KeysClient(channels["keys"]),
            registry=RegistryClient(channels["registry"]),
            blobstore=BlobstoreClient(channels["blobstore"]),
            channels=tuple(channels.values()),
            artifacts=ArtifactsClient(channels["registry"]),
        )

    async def serving(self) -> dict[str, bool]:
        """Each service's gRPC health, asked concurrently."""
        names = ("identity", "keys", "registry", "blobstore")
        answers = await asyncio.gather(*(getattr(self, name).serving() for name in names))
        return dict(zip(names, answers, strict=True))

    async def close(self) -> None:
        await asyncio.gather(*(ch.close() for ch in self.channels), return_exceptions=True)
