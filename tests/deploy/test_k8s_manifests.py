"""deploy/k8s (docs/decisions/0025) checked without a cluster: the kustomize base and its overlays are whole,
every process gets exactly the HANGAR_* settings it reads (and they validate), ports agree from the
gateway's service addresses to the probes, no Secret holds a real value, and only the gateway reaches the
internal services. Overlays are rendered with `kubectl kustomize` (or `kustomize build`) when one is on PATH;
without one they are assembled by a minimal merge of what they use (resources, ConfigMap literals, replicas,
deletions), and the checks that need their JSON patches applied are skipped.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic_settings import BaseSettings

from hangar.blobstore.main import Settings as BlobstoreSettings
from hangar.gateway.main import Settings as GatewaySettings
from hangar.identity.main import Settings as IdentitySettings
from hangar.keys.main import Settings as KeysSettings
from hangar.kit.config import KitSettings
from hangar.registry.main import Settings as RegistrySettings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
BASE = K8S / "base"
OVERLAYS = {"dev": K8S / "overlays" / "dev", "production": K8S / "overlays" / "production"}
SECRET_EXAMPLE = K8S / "secret.example.env"

INTERNAL = ("identity", "keys", "registry", "blobstore")
COMPONENTS = (*INTERNAL, "gateway")
#: What each container runs, and the Settings class that process reads its HANGAR_* variables into.
SERVE_SETTINGS: dict[str, type[BaseSettings]] = {
    "identity": IdentitySettings,
    "keys": KeysSettings,
    "registry": RegistrySettings,
    "blobstore": BlobstoreSettings,
    "gateway": GatewaySettings,
}
#: `hangar migrate <service>` reads only the kit's settings (cli/hangar/cli/main.py).
MIGRATE_SETTINGS: type[BaseSettings] = KitSettings
PLACEHOLDER = re.compile(r"<[a-z0-9-]+>")

Doc = dict[str, Any]


# --- loading ------------------------------------------------------------------------------------------------


def load_yaml_docs(path: Path) -> list[Doc]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def kustomization(directory: Path) -> Doc:
    docs = load_yaml_docs(directory / "kustomization.yaml")
    assert len(docs) == 1, directory
    return docs[0]


def kustomization_dirs() -> list[Path]:
    return sorted(path.parent for path in K8S.rglob("kustomization.yaml"))


def literals(generator: Doc) -> dict[str, str]:
    pairs = (literal.split("=", 1) for literal in generator.get("literals", []))
    return {key: value for key, value in pairs}


def assemble(directory: Path) -> list[Doc]:
    """A kustomization's objects by a minimal merge: resources (recursively), ConfigMap literals (create or
    merge), `replicas`, and `$patch: delete` patches. JSON 6902 patches and images are not applied."""
    spec = kustomization(directory)
    docs: list[Doc] = []
    for resource in spec.get("resources", []):
        path = directory / resource
        docs.extend(assemble(path) if path.is_dir() else load_yaml_docs(path))
    for generator in spec.get("configMapGenerator", []):
        if generator.get("behavior") == "merge":
            (existing,) = [
                d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == generator["name"]
            ]
            existing["data"].update(literals(generator))
        else:
            docs.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": generator["name"]},
                         "data": literals(generator)})  # fmt: skip
    for replicas in spec.get("replicas", []):
        for doc in docs:
            if doc["kind"] == "Deployment" and doc["metadata"]["name"] == replicas["name"]:
                doc["spec"]["replicas"] = replicas["count"]
    for entry in spec.get("patches", []):
        patch = yaml.safe_load(entry["patch"]) if "patch" in entry else None
        if isinstance(patch, dict) and patch.get("$patch") == "delete":
            docs = [
                d
                for d in docs
                if (d["kind"], d["metadata"]["name"]) != (patch["kind"], patch["metadata"]["name"])
            ]
    return docs


def renderer() -> list[str] | None:
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    return None


@functools.cache
def rendered_text(directory: Path) -> str:
    command = renderer()
    assert command is not None
    result = subprocess.run(
        [*command, str(directory)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def manifests(layout: str) -> list[Doc]:
    """The objects of the base or of an overlay: rendered when a kustomize is at hand, else assembled."""
    directory = BASE if layout == "base" else OVERLAYS[layout]
    if layout != "base" and renderer() is not None:
        return [doc for doc in yaml.safe_load_all(rendered_text(directory)) if doc]
    return assemble(directory)


LAYOUTS = ["base", *OVERLAYS]


# --- helpers over objects -----------------------------------------------------------------------------------


def of_kind(docs: list[Doc], kind: str) -> list[Doc]:
    return [doc for doc in docs if doc["kind"] == kind]


def named(docs: list[Doc], kind: str, name: str) -> Doc:
    found = [doc for doc in of_kind(docs, kind) if doc["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def deployment(docs: list[Doc], component: str) -> Doc:
    return named(docs, "Deployment", f"hangar-{component}")


def pod_labels(deploy: Doc) -> dict[str, str]:
    labels: dict[str, str] = deploy["spec"]["template"]["metadata"]["labels"]
    return labels


def selects(selector: Doc, labels: dict[str, str]) -> bool:
    """A LabelSelector's verdict (matchLabels and the In/NotIn/Exists/DoesNotExist expressions)."""
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        verdict = {
            "In": labels.get(key) in values,
            "NotIn": labels.get(key) not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[operator]
        if not verdict:
            return False
    return True


def main_container(deploy: Doc) -> Doc:
    containers = deploy["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, deploy["metadata"]["name"]
    container: Doc = containers[0]
    return container


def all_containers(deploy: Doc) -> Iterator[Doc]:
    spec = deploy["spec"]["template"]["spec"]
    yield from spec.get("initContainers", [])
    yield from spec["containers"]


def container_port(container: Doc, port: int | str) -> int:
    """A port number from a number or a named container port."""
    if isinstance(port, int):
        assert port in [p["containerPort"] for p in container["ports"]], (container["name"], port)
        return port
    (number,) = [p["containerPort"] for p in container["ports"] if p["name"] == port]
    return int(number)


def secret_example() -> dict[str, str]:
    pairs = {}
    for line in SECRET_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, value = line.split("=", 1)
            pairs[key] = value
    return pairs


def resolved_env(docs: list[Doc], container: Doc) -> dict[str, str]:
    """The container's environment as the kubelet would set it: ConfigMap values, the Secret's example
    values (the placeholders), optional references to missing keys left out."""
    env: dict[str, str] = {}
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = str(var["value"])
            continue
        source = var["valueFrom"]
        if "configMapKeyRef" in source:
            ref = source["configMapKeyRef"]
            data = named(docs, "ConfigMap", ref["name"]).get("data", {})
        else:
            ref = source["secretKeyRef"]
            data = secret_example() if ref["name"] == "hangar-secrets" else {}
        if ref["key"] in data:
            env[var["name"]] = data[ref["key"]]
        else:
            assert ref.get("optional"), f"{container['name']}: {var['name']} names missing key {ref['key']}"
    return env


def settings_of(settings: type[BaseSettings], env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """The process's Settings built from exactly `env` (none of this test process's HANGAR_* variables)."""
    with monkeypatch.context() as patched:
        for name in [name for name in os.environ if name.startswith("HANGAR_")]:
            patched.delenv(name)
        for name, value in env.items():
            patched.setenv(name, value)
        return settings()


def variable_names(settings: type[BaseSettings]) -> set[str]:
    return {f"HANGAR_{field.upper()}" for field in settings.model_fields}


def process_settings(container: Doc) -> type[BaseSettings]:
    command, service = container["args"]
    assert command in ("serve", "migrate"), container["args"]
    return SERVE_SETTINGS[service] if command == "serve" else MIGRATE_SETTINGS


# --- the kustomizations -------------------------------------------------------------------------------------


def test_there_is_a_base_and_a_dev_and_a_production_overlay() -> None:
    assert kustomization_dirs() == sorted([BASE, *OVERLAYS.values()])


@pytest.mark.parametrize("directory", kustomization_dirs(), ids=lambda d: str(d.relative_to(K8S)))
def test_every_resource_a_kustomization_names_exists(directory: Path) -> None:
    for resource in kustomization(directory).get("resources", []):
        path = directory / resource
        assert path.is_file() or (path / "kustomization.yaml").is_file(), f"{directory}: {resource}"


def test_every_yaml_under_deploy_is_named_by_a_kustomization() -> None:
    named_files = {
        (directory / resource).resolve()
        for directory in kustomization_dirs()
        for resource in kustomization(directory).get("resources", [])
    }
    for path in K8S.rglob("*.yaml"):
        assert path.name == "kustomization.yaml" or path.resolve() in named_files, f"{path} is never applied"


@pytest.mark.parametrize("directory", OVERLAYS.values(), ids=list(OVERLAYS))
def test_overlays_build_on_the_base_and_merge_into_its_configmap(directory: Path) -> None:
    spec = kustomization(directory)
    assert "../../base" in spec["resources"]
    base_keys = set(literals(kustomization(BASE)["configMapGenerator"][0]))
    known = set().union(*(variable_names(s) for s in SERVE_SETTINGS.values()))
    for generator in spec.get("configMapGenerator", []):
        assert generator["name"] == "hangar-config" and generator["behavior"] == "merge"
        assert set(literals(generator)) <= known, "a ConfigMap key no process reads"
    # a key the base lacks must be one the Deployments reference optionally (e.g. HANGAR_S3_ENDPOINT_URL)
    optional_refs = {
        var["valueFrom"]["configMapKeyRef"]["key"]
        for deploy in of_kind(assemble(BASE), "Deployment")
        for container in all_containers(deploy)
        for var in container.get("env", [])
        if var.get("valueFrom", {}).get("configMapKeyRef", {}).get("optional")
    }
    for generator in spec.get("configMapGenerator", []):
        assert set(literals(generator)) - base_keys <= optional_refs


@pytest.mark.skipif(renderer() is None, reason="neither kubectl nor kustomize is on PATH")
@pytest.mark.parametrize("directory", [BASE, *OVERLAYS.values()], ids=["base", *OVERLAYS])
def test_kustomize_renders_it(directory: Path) -> None:
    kinds = {doc["kind"] for doc in yaml.safe_load_all(rendered_text(directory)) if doc}
    assert {"Deployment", "Service", "ConfigMap", "NetworkPolicy"} <= kinds


# --- Deployments, Services, probes, resources, securityContext ----------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
def test_each_component_has_a_deployment_and_a_service_selecting_its_pods(layout: str) -> None:
    docs = manifests(layout)
    for component in COMPONENTS:
        deploy = deployment(docs, component)
        labels = pod_labels(deploy)
        assert labels["app.kubernetes.io/name"] == "hangar"
        assert labels["app.kubernetes.io/component"] == component
        assert selects(deploy["spec"]["selector"], labels)
        service = named(docs, "Service", f"hangar-{component}")
        assert service["spec"]["selector"].items() <= labels.items()
        assert service["metadata"]["labels"]["app.kubernetes.io/component"] == component


@pytest.mark.parametrize("component", COMPONENTS)
def test_each_container_runs_hangar_serve_or_migrate_for_its_own_component(component: str) -> None:
    deploy = deployment(manifests("base"), component)
    assert main_container(deploy)["args"] == ["serve", component]
    inits = deploy["spec"]["template"]["spec"].get("initContainers", [])
    if component == "gateway":
        assert inits == []  # the gateway has no database
    else:
        (migrate,) = inits
        assert migrate["args"] == ["migrate", component]
    for container in all_containers(deploy):
        assert container["image"] == "hangar"  # the images transformer names the real one
        assert "command" not in container  # the image's entrypoint is `hangar`


@pytest.mark.parametrize("component", INTERNAL)
def test_internal_services_are_probed_over_grpc_health_on_their_grpc_port(component: str) -> None:
    container = main_container(deployment(manifests("base"), component))
    grpc_port = container_port(container, "grpc")
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["grpc"]["port"] == grpc_port, probe


def test_gateway_is_ready_on_readyz_and_alive_on_healthz_on_its_http_port() -> None:
    container = main_container(deployment(manifests("base"), "gateway"))
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container_port(container, container[probe]["httpGet"]["port"]) == container_port(
            container, "http"
        )


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_container_has_requests_limits_and_a_locked_down_security_context(layout: str) -> None:
    for deploy in of_kind(manifests(layout), "Deployment"):
        pod = deploy["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] != 0
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        assert pod["automountServiceAccountToken"] is False
        volumes = {volume["name"]: volume for volume in pod["volumes"]}
        for container in all_containers(deploy):
            where = f"{deploy['metadata']['name']}/{container['name']}"
            for section in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container["resources"][section]), where
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["allowPrivilegeEscalation"] is False, where
            assert context["capabilities"]["drop"] == ["ALL"], where
            assert "add" not in context["capabilities"], where
            mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
            assert "emptyDir" in volumes[mounts["/tmp"]], f"{where}: /tmp must be a writable emptyDir"


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_object_carries_the_app_kubernetes_io_labels(layout: str) -> None:
    rendered = layout != "base" and renderer() is not None
    for doc in manifests(layout):
        labels = doc["metadata"].get("labels", {})
        if doc["kind"] != "ConfigMap":  # the generator's ConfigMap gets only the common labels below
            assert labels["app.kubernetes.io/name"] == "hangar", doc["metadata"]["name"]
        if doc["kind"] not in ("ConfigMap", "NetworkPolicy"):
            assert labels["app.kubernetes.io/component"] in COMPONENTS, doc["metadata"]["name"]
        if rendered:
            assert labels["app.kubernetes.io/part-of"] == "hangar", doc["metadata"]["name"]
            assert labels["app.kubernetes.io/managed-by"] == "kustomize", doc["metadata"]["name"]
    (common,) = kustomization(BASE)["labels"]
    assert common["pairs"] == {
        "app.kubernetes.io/part-of": "hangar",
        "app.kubernetes.io/managed-by": "kustomize",
    }
    assert common["includeSelectors"] is False  # selectors are immutable: keep them to name + component


# --- settings -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_hangar_variable_set_is_a_setting_of_the_process_that_gets_it(layout: str) -> None:
    for deploy in of_kind(manifests(layout), "Deployment"):
        for container in all_containers(deploy):
            known = variable_names(process_settings(container))
            names = [var["name"] for var in container.get("env", [])]
            assert len(names) == len(set(names)), f"{container['name']}: a variable set twice"
            unknown = {name for name in names if name.startswith("HANGAR_")} - known
            assert not unknown, f"{deploy['metadata']['name']}/{container['name']} sets {unknown}"
            assert all(name.startswith("HANGAR_") for name in names), names
            assert "envFrom" not in container  # explicit variables, so that this test sees each one


@pytest.mark.parametrize("layout", LAYOUTS)
def test_each_process_settings_validate_from_its_environment_with_nothing_required_left_unset(
    layout: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = manifests(layout)
    for deploy in of_kind(docs, "Deployment"):
        for container in all_containers(deploy):
            kind = process_settings(container)
            env = resolved_env(docs, container)
            required = {
                f"HANGAR_{n.upper()}" for n, field in kind.model_fields.items() if field.is_required()
            }
            assert required <= set(env), f"{container['name']}: {required - set(env)} unset"
            settings = settings_of(kind, env, monkeypatch)  # types, ranges and cross-field rules
            if kind is GatewaySettings:
                assert settings.missing_addresses() == []
                assert settings.revocation_events and settings.nats_url.startswith("nats://")
            else:
                # distributed mode: PostgreSQL, migrations by `hangar migrate` only
                assert settings.database_url.startswith("postgresql+asyncpg://")
            if container["args"][0] == "serve" and kind is not GatewaySettings:
                assert settings.migrate_on_start is False
                assert settings.nats_url.startswith("nats://")
            if kind is BlobstoreSettings:
                assert settings.storage == "s3" and settings.s3_bucket


@pytest.mark.parametrize("component", INTERNAL)
def test_each_service_and_its_migration_use_that_service_s_own_database(component: str) -> None:
    deploy = deployment(manifests("base"), component)
    for container in all_containers(deploy):
        (url,) = [var for var in container["env"] if var["name"] == "HANGAR_DATABASE_URL"]
        assert url["valueFrom"]["secretKeyRef"] == {
            "name": "hangar-secrets",
            "key": f"{component}-database-url",
        }


def test_the_gateway_reads_its_signing_key_from_a_mounted_secret() -> None:
    deploy = deployment(manifests("base"), "gateway")
    container = main_container(deploy)
    (path,) = [var["value"] for var in container["env"] if var["name"] == "HANGAR_TOKEN_KEY_FILE"]
    volumes = {volume["name"]: volume for volume in deploy["spec"]["template"]["spec"]["volumes"]}
    (mount,) = [m for m in container["volumeMounts"] if path.startswith(m["mountPath"].rstrip("/") + "/")]
    assert mount["readOnly"] is True
    secret = volumes[mount["name"]]["secret"]
    assert secret["secretName"] == "hangar-token-key"
    assert [item["path"] for item in secret["items"]] == [path.rsplit("/", 1)[1]]


# --- secrets ------------------------------------------------------------------------------------------------


def test_the_example_secret_holds_only_placeholders_for_every_key_the_manifests_use() -> None:
    example = secret_example()
    for key, value in example.items():
        assert PLACEHOLDER.search(value), f"{key} looks like a real value"
        if "database-url" in key:
            assert re.fullmatch(r"postgresql\+asyncpg://<[a-z-]+>:<[a-z-]+>@[a-z0-9.-]+:\d+/\w+", value), key
    used = {
        var["valueFrom"]["secretKeyRef"]["key"]
        for deploy in of_kind(manifests("base"), "Deployment")
        for container in all_containers(deploy)
        for var in container.get("env", [])
        if "secretKeyRef" in var.get("valueFrom", {})
    }
    assert used == set(example)


def test_no_secret_value_is_committed_under_deploy() -> None:
    for directory in kustomization_dirs():
        spec = kustomization(directory)
        assert "secretGenerator" not in spec, f"{directory}: Secrets are created out of band"
    for layout in LAYOUTS:
        assert of_kind(manifests(layout), "Secret") == []
    for path in K8S.rglob("*"):
        if path.is_file():
            text = path.read_text()
            assert "PRIVATE KEY-----" not in text, path
            assert not re.search(r"://[^<\s/]+:[^<\s@]+@", text), f"{path}: a URL with credentials"


# --- ports --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
def test_service_ports_reach_container_ports_that_the_processes_listen_on(
    layout: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = manifests(layout)
    for component in COMPONENTS:
        deploy = deployment(docs, component)
        container = main_container(deploy)
        (port,) = named(docs, "Service", f"hangar-{component}")["spec"]["ports"]
        target = container_port(container, port["targetPort"])
        settings = settings_of(process_settings(container), resolved_env(docs, container), monkeypatch)
        if component == "gateway":
            assert settings.http_port == target and settings.http_host == "0.0.0.0"
        else:
            host, listen_port = settings.grpc_listen.rsplit(":", 1)
            assert int(listen_port) == target and host == "0.0.0.0"
            assert port["appProtocol"] == "grpc"


@pytest.mark.parametrize("layout", LAYOUTS)
def test_the_gateway_s_service_addresses_name_each_service_and_its_port(
    layout: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = manifests(layout)
    container = main_container(deployment(docs, "gateway"))
    settings = settings_of(GatewaySettings, resolved_env(docs, container), monkeypatch)
    for component in INTERNAL:
        host, port = getattr(settings, f"{component}_addr").rsplit(":", 1)
        service = named(docs, "Service", host.split(".")[0])
        assert service["metadata"]["name"] == f"hangar-{component}"
        assert int(port) in [p["port"] for p in service["spec"]["ports"]]


# --- network policy -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
def test_only_the_gateway_reaches_each_internal_service_and_only_on_its_grpc_port(layout: str) -> None:
    docs = manifests(layout)
    gateway_labels = pod_labels(deployment(docs, "gateway"))
    for component in INTERNAL:
        deploy = deployment(docs, component)
        grpc_port = container_port(main_container(deploy), "grpc")
        policies = [
            p for p in of_kind(docs, "NetworkPolicy") if selects(p["spec"]["podSelector"], pod_labels(deploy))
        ]
        assert policies, f"no NetworkPolicy isolates {component}"
        for policy in policies:
            assert "Ingress" in policy["spec"]["policyTypes"]
            for rule in policy["spec"].get("ingress", []):
                assert rule["ports"] == [{"protocol": "TCP", "port": grpc_port}]
                assert rule["from"], "an ingress rule without `from` admits every pod"
                for peer in rule["from"]:
                    assert set(peer) == {"podSelector"}, "only pods of this namespace"
                    assert selects(peer["podSelector"], gateway_labels)
                    for other in INTERNAL:
                        assert not selects(peer["podSelector"], pod_labels(deployment(docs, other)))


# --- replicas, disruption budgets, autoscaling --------------------------------------------------------------


def test_base_runs_several_gateways_owned_by_an_autoscaler_behind_a_disruption_budget() -> None:
    docs = manifests("base")
    gateway = deployment(docs, "gateway")
    assert "replicas" not in gateway["spec"], "the HorizontalPodAutoscaler owns the gateway's replica count"
    hpa = named(docs, "HorizontalPodAutoscaler", "hangar-gateway")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "hangar-gateway",
    }
    assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
    pdb = named(docs, "PodDisruptionBudget", "hangar-gateway")
    assert selects(pdb["spec"]["selector"], pod_labels(gateway))
    for component in INTERNAL:
        assert deployment(docs, component)["spec"]["replicas"] >= 2


def test_dev_runs_one_replica_of_everything_with_no_autoscaler_or_budget() -> None:
    docs = manifests("dev")
    for component in COMPONENTS:
        assert deployment(docs, component)["spec"]["replicas"] == 1
    assert of_kind(docs, "HorizontalPodAutoscaler") == []
    assert of_kind(docs, "PodDisruptionBudget") == []


def test_production_keeps_every_component_available_through_a_disruption() -> None:
    docs = manifests("production")
    for component in COMPONENTS:
        deploy = deployment(docs, component)
        if component != "gateway":
            assert deploy["spec"]["replicas"] >= 3
        budgets = [
            p
            for p in of_kind(docs, "PodDisruptionBudget")
            if selects(p["spec"]["selector"], pod_labels(deploy))
        ]
        assert len(budgets) == 1, component
        assert budgets[0]["spec"]["maxUnavailable"] == 1


@pytest.mark.skipif(renderer() is None, reason="the HPA bounds are JSON patches: needs kubectl or kustomize")
def test_production_autoscales_the_gateway_between_its_bounds() -> None:
    docs = manifests("production")
    hpa = named(docs, "HorizontalPodAutoscaler", "hangar-gateway")
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 20)
    assert "replicas" not in deployment(docs, "gateway")["spec"]
    for deploy in of_kind(docs, "Deployment"):
        for container in all_containers(deploy):
            assert container["image"] == "ghcr.io/example/hangar:0.1.0"
