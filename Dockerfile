# The Hangar image: every workspace package installed (not editable) with the pinned constraints, run as a
# non-root user; `hangar serve <service>` and `hangar migrate <service>` are its commands (deploy/k8s/).
#   docker build -t hangar .
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY constraints.txt ./
COPY protos/gen/python protos/gen/python
COPY libs/kit libs/kit
COPY services services
COPY cli cli
RUN python -m venv /opt/hangar \
 && /opt/hangar/bin/pip install -c constraints.txt \
      ./protos/gen/python ./libs/kit \
      ./services/identity ./services/keys ./services/registry ./services/blobstore ./services/gateway \
      ./cli \
 && /opt/hangar/bin/python -m compileall -q /opt/hangar/lib

FROM python:3.11-slim
# a fixed numeric user, so Kubernetes' runAsNonRoot can verify it (deploy/k8s runs as 10001:10001)
RUN groupadd --system --gid 10001 hangar \
 && useradd --system --uid 10001 --gid 10001 --home-dir /home/hangar --create-home hangar
COPY --from=build /opt/hangar /opt/hangar
# bytecode is compiled at build time: the root filesystem can be read-only
ENV PATH=/opt/hangar/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
USER 10001:10001
WORKDIR /home/hangar
ENTRYPOINT ["hangar"]
CMD ["--help"]
