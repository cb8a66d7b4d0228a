"""deploy/k8s and the Dockerfiles agree with the code that runs in them.

Pure: the overlays are rendered by scripts/k8s_render.py (kubectl kustomize, the same function
`make k8s-render` uses) and read as YAML; no cluster is involved. Each service's Deployment is held
against the Settings class its `server.py` hands to `run()`: the variables it sets are fields of
that class, the class loads from them, ports and probes line up, secrets come from Secrets.
"""

from __future__ import annotations

import ast
import copy
import importlib
import importlib.util
import json
import os
import re
import shlex
import sys
import tomllib
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from adgen_kernel.jetstream import WORK_STREAM
from adgen_kernel.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("gateway", "planner", "storyboard", "chunks", "refine", "export", "voice", "assets")
# Settings holding credentials beyond the SecretStr fields: the database URL carries a password.
SECRET_URL_FIELDS = {"database_url"}
# Variables the processes read that are not adgen settings.
FOREIGN_PREFIXES = ("OTEL_", "OMP_")  # read by the OpenTelemetry SDK; by OpenMP (torch, faiss)

Manifest = dict[str, Any]


def _load_render_module() -> Any:
    spec = importlib.util.spec_from_file_location("k8s_render", ROOT / "scripts" / "k8s_render.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


k8s_render = _load_render_module()


def _package_dir(service: str) -> Path:
    return ROOT / "gateway" if service == "gateway" else ROOT / "services" / service


def _server_calls(service: str) -> list[ast.Call]:
    tree = ast.parse((_package_dir(service) / "src" / f"adgen_{service}" / "server.py").read_text())
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)]


def settings_class(service: str) -> type[ServiceSettings]:
    """The class the process really reads: the second argument of `run(name, Settings, build)`."""
    (call,) = [c for c in _server_calls(service) if c.func.id == "run"]  # type: ignore[attr-defined]
    argument = call.args[1]
    assert isinstance(argument, ast.Name)
    cls = getattr(importlib.import_module(f"adgen_{service}.server"), argument.id)
    assert issubclass(cls, ServiceSettings)
    return cls


def durable_names(service: str) -> list[str]:
    """The JetStream durable consumers a service pulls from: the first argument of each WorkHandler."""
    calls = [c for c in _server_calls(service) if c.func.id == "WorkHandler"]  # type: ignore[attr-defined]
    return [c.args[0].value for c in calls if isinstance(c.args[0], ast.Constant) and isinstance(c.args[0].value, str)]


def env_name(field: str) -> str:
    return "ADGEN_" + field.upper()


def is_secret(cls: type[ServiceSettings], field: str) -> bool:
    annotation = cls.model_fields[field].annotation
    return field in SECRET_URL_FIELDS or annotation is SecretStr or SecretStr in typing.get_args(annotation)


@dataclass(frozen=True)
class EnvValue:
    """Where a container's variable comes from: a literal, a ConfigMap key or a Secret key."""

    source: str  # "literal" | "configmap" | "secret"
    value: str = ""
    secret: str = ""
    key: str = ""
    optional: bool = False


@dataclass(frozen=True)
class Workload:
    """One service as an overlay renders it."""

    overlay: str
    service: str
    objects: list[Manifest]
    deployment: Manifest
    k8s_service: Manifest

    @property
    def pod(self) -> Manifest:
        return self.deployment["spec"]["template"]["spec"]

    @property
    def container(self) -> Manifest:
        return self.pod["containers"][0]

    @property
    def ports(self) -> dict[str, int]:
        return {p["name"]: p["containerPort"] for p in self.container["ports"]}

    @property
    def env(self) -> dict[str, EnvValue]:
        return container_env(self.objects, self.container)


def find(objects: list[Manifest], kind: str, name: str | None = None) -> list[Manifest]:
    return [o for o in objects if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]


def container_env(objects: list[Manifest], container: Manifest) -> dict[str, EnvValue]:
    """The container's environment as Kubernetes builds it: envFrom in order, then env on top."""
    env: dict[str, EnvValue] = {}
    for source in container.get("envFrom", []):
        assert "configMapRef" in source, f"envFrom {source}: only ConfigMaps, whose keys can be checked"
        (config_map,) = find(objects, "ConfigMap", source["configMapRef"]["name"])
        for key, value in config_map.get("data", {}).items():
            env[key] = EnvValue("configmap", value=value)
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = EnvValue("literal", value=str(item["value"]))
        else:
            ref = item["valueFrom"]["secretKeyRef"]
            env[item["name"]] = EnvValue(
                "secret", secret=ref["name"], key=ref["key"], optional=bool(ref.get("optional", False))
            )
    return env


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[Manifest]]:
    try:
        return {overlay: k8s_render.render(overlay) for overlay in k8s_render.OVERLAYS}
    except k8s_render.RendererUnavailable as error:
        pytest.skip(f"cannot render kustomize: {error}")


@pytest.fixture(params=[(o, s) for o in ("dev", "prod") for s in SERVICES], ids=lambda p: f"{p[0]}-{p[1]}")
def workload(request: pytest.FixtureRequest, rendered: dict[str, list[Manifest]]) -> Workload:
    overlay, service = request.param
    objects = rendered[overlay]
    (deployment,) = find(objects, "Deployment", service)
    (k8s_service,) = find(objects, "Service", service)
    return Workload(overlay, service, objects, deployment, k8s_service)


def load_settings(workload: Workload, monkeypatch: pytest.MonkeyPatch) -> ServiceSettings:
    """The service's Settings, built from exactly the environment the manifest gives the container."""
    for name in list(os.environ):
        if name.startswith("ADGEN_"):
            monkeypatch.delenv(name)
    for name, value in workload.env.items():
        if value.source == "secret":
            if not value.optional:
                monkeypatch.setenv(name, f"from-secret-{value.secret}-{value.key}")
        else:
            monkeypatch.setenv(name, value.value)
    return settings_class(workload.service)()  # type: ignore[call-arg]


def test_every_overlay_renders_and_validates(rendered: dict[str, list[Manifest]]) -> None:
    for overlay, objects in rendered.items():
        assert k8s_render.validate(objects) == [], overlay
        kinds = {o["kind"] for o in objects}
        assert {"Deployment", "Service", "ServiceAccount", "ConfigMap", "Job"} <= kinds
        assert {d["metadata"]["name"] for d in find(objects, "Deployment")} >= set(SERVICES)
    assert {"StatefulSet", "Secret"} <= {o["kind"] for o in rendered["dev"]}
    assert {"PodDisruptionBudget", "HorizontalPodAutoscaler", "ScaledObject"} <= {o["kind"] for o in rendered["prod"]}


def test_validation_names_the_bad_field(rendered: dict[str, list[Manifest]]) -> None:
    deployment = copy.deepcopy(find(rendered["dev"], "Deployment", "chunks")[0])
    port = deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]
    port["containerPorts"] = port.pop("containerPort")
    scaled = copy.deepcopy(find(rendered["prod"], "ScaledObject", "chunks")[0])
    del scaled["spec"]["triggers"][0]["metadata"]["consumer"]
    scaled["spec"]["maxReplicas"] = 3

    problems = k8s_render.validate([deployment, scaled])

    assert len(problems) == 3, problems
    assert any(p.startswith("Deployment/chunks: spec.template.spec.containers.0.ports.0") for p in problems)
    assert any("ScaledObject/chunks" in p and "'consumer' is a required property" in p for p in problems)
    assert any("ScaledObject/chunks" in p and "maxReplicas" in p for p in problems)


def test_env_names_are_fields_of_the_service_settings(workload: Workload) -> None:
    cls = settings_class(workload.service)
    known = {env_name(field) for field in cls.model_fields}
    for name in workload.env:
        if name.startswith("ADGEN_"):
            assert name in known, f"{workload.overlay}/{workload.service} sets {name}, not a field of {cls.__name__}"
        else:
            assert name.startswith(FOREIGN_PREFIXES), f"{workload.service} sets {name}, which nothing reads"


def test_settings_load_from_the_manifest_alone(workload: Workload, monkeypatch: pytest.MonkeyPatch) -> None:
    cls = settings_class(workload.service)
    required = {env_name(name) for name, field in cls.model_fields.items() if field.is_required()}
    assert required <= set(workload.env), f"{workload.service} misses {sorted(required - set(workload.env))}"

    settings = load_settings(workload, monkeypatch)

    assert settings.grpc_host == "0.0.0.0"
    assert settings.grpc_port == workload.ports["grpc"]
    assert settings.nats_url.startswith("nats://")
    assert settings.s3_endpoint.startswith(("http://", "https://"))
    assert settings.log_json is True
    grace = workload.pod["terminationGracePeriodSeconds"]
    assert grace > settings.drain_grace_s, f"{workload.service}: SIGKILL ({grace} s) would cut the drain short"
    if settings.metrics_port:
        assert workload.ports["metrics"] == settings.metrics_port


def test_secrets_come_from_secrets(workload: Workload) -> None:
    cls = settings_class(workload.service)
    env = workload.env
    for field in cls.model_fields:
        if not is_secret(cls, field):
            continue
        name = env_name(field)
        assert name in env, f"{workload.service}: secret setting {name} is not wired to a Secret"
        assert env[name].source == "secret", f"{workload.service}: {name} must come from a secretKeyRef"
        assert env[name].optional == (not cls.model_fields[field].is_required()), name
        if workload.overlay == "dev" and not env[name].optional:
            (secret,) = find(workload.objects, "Secret", env[name].secret)
            assert env[name].key in {**secret.get("data", {}), **secret.get("stringData", {})}, name
    for config_map in find(workload.objects, "ConfigMap"):
        leaked = {env_name(f) for f in cls.model_fields if is_secret(cls, f)} & set(config_map.get("data", {}))
        assert not leaked, f"{config_map['metadata']['name']} holds secrets {leaked}"


def test_no_secret_is_kept_in_the_prod_overlay(rendered: dict[str, list[Manifest]]) -> None:
    assert find(rendered["prod"], "Secret") == []


def test_ports_and_probes_line_up(workload: Workload) -> None:
    ports, container = workload.ports, workload.container
    grpc_port = ports["grpc"]
    by_name = {p["name"]: p for p in workload.k8s_service["spec"]["ports"]}
    assert by_name["grpc"]["port"] == grpc_port and by_name["grpc"]["targetPort"] in ("grpc", grpc_port)
    labels = workload.deployment["spec"]["template"]["metadata"]["labels"]
    assert workload.k8s_service["spec"]["selector"].items() <= labels.items()
    assert workload.deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()

    # Native gRPC probes take a number, not a port name: it must be the named grpc port's number,
    # and the service name empty, i.e. the overall status serve() flips.
    for probe in ("livenessProbe", "startupProbe"):
        assert container[probe]["grpc"]["port"] == grpc_port, probe
        assert container[probe]["grpc"].get("service", "") == "", probe
    readiness = container["readinessProbe"]
    if workload.service == "gateway":
        env = workload.env
        assert int(env["ADGEN_HTTP_PORT"].value) == ports["http"] == by_name["http"]["port"]
        assert env["ADGEN_HTTP_HOST"].value == "0.0.0.0"
        assert readiness["httpGet"] == {"path": "/healthz", "port": "http"}
    else:
        assert readiness["grpc"]["port"] == grpc_port and readiness["grpc"].get("service", "") == ""


def test_addresses_point_at_the_services_grpc_ports(workload: Workload) -> None:
    addresses = {name: v.value for name, v in workload.env.items() if name.endswith("_ADDR")}
    for name, address in addresses.items():
        host, port = address.rsplit(":", 1)
        (target,) = find(workload.objects, "Service", host)
        grpc = {p["name"]: p["port"] for p in target["spec"]["ports"]}["grpc"]
        assert int(port) == grpc, f"{workload.service}: {name}={address}, but Service {host} serves gRPC on {grpc}"
        (deployment,) = find(workload.objects, "Deployment", host)
        env = container_env(workload.objects, deployment["spec"]["template"]["spec"]["containers"][0])
        assert env["ADGEN_GRPC_PORT"].value == port, name


def test_container_and_security_context(workload: Workload) -> None:
    pod, container = workload.pod, workload.container
    assert [c["name"] for c in pod["containers"]] == ["server"]
    assert re.search(rf"(^|/)adgen/{workload.service}(:[\w.-]+)?$", container["image"]), container["image"]
    assert find(workload.objects, "ServiceAccount", pod["serviceAccountName"])
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] > 0
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    (tmp,) = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
    (volume,) = [v for v in pod["volumes"] if v["name"] == tmp["name"]]
    assert "emptyDir" in volume
    for bound in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(container["resources"][bound]), bound


def test_keda_scales_chunks_storyboard_and_voice_on_their_consumers(rendered: dict[str, list[Manifest]]) -> None:
    objects = rendered["prod"]
    for service in ("chunks", "storyboard", "voice"):
        (scaled,) = find(objects, "ScaledObject", service)
        spec = scaled["spec"]
        assert spec["scaleTargetRef"]["name"] == service and find(objects, "Deployment", service)
        assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"]
        (trigger,) = [t for t in spec["triggers"] if t["type"] == "nats-jetstream"]
        meta = trigger["metadata"]
        assert meta["stream"] == WORK_STREAM and meta["account"] == "$G"
        assert [meta["consumer"]] == durable_names(service)
        assert int(meta["lagThreshold"]) >= 1
        host = meta["natsServerMonitoringEndpoint"].rsplit(":", 1)[0]
        assert "." in host, "KEDA polls from its own namespace: the endpoint needs a qualified host"
    assert durable_names("chunks") == ["chunk"] and durable_names("storyboard") == ["frame"]
    assert durable_names("voice") == ["voice"]


def test_each_deployment_has_at_most_one_autoscaler(rendered: dict[str, list[Manifest]]) -> None:
    for overlay, objects in rendered.items():
        hpa = [o["spec"]["scaleTargetRef"]["name"] for o in find(objects, "HorizontalPodAutoscaler")]
        keda = [o["spec"]["scaleTargetRef"]["name"] for o in find(objects, "ScaledObject")]
        assert len(hpa + keda) == len(set(hpa + keda)), f"{overlay}: two autoscalers on one Deployment"
        for name in hpa + keda:
            (deployment,) = find(objects, "Deployment", name)
            assert "replicas" not in deployment["spec"], f"{overlay}/{name}: a fixed count fights the autoscaler"
    prod = rendered["prod"]
    (refine,) = find(prod, "HorizontalPodAutoscaler", "refine")
    assert refine["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    (storyboard,) = find(prod, "ScaledObject", "storyboard")
    assert "cpu" in {t["type"] for t in storyboard["spec"]["triggers"]}


def test_prod_budgets_cover_every_service(rendered: dict[str, list[Manifest]]) -> None:
    objects = rendered["prod"]
    budgets = find(objects, "PodDisruptionBudget")
    for service in SERVICES:
        (deployment,) = find(objects, "Deployment", service)
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        covering = [b for b in budgets if b["spec"]["selector"]["matchLabels"].items() <= labels.items()]
        assert len(covering) == 1, service
        assert deployment["spec"].get("replicas", 2) >= 2, f"{service}: a budget needs a second replica"
    for service in SERVICES:
        assert find(rendered["dev"], "Deployment", service)[0]["spec"]["replicas"] == 1


# ------------------------------------------------------------------------------------ Dockerfiles


def _pyprojects() -> dict[str, tuple[Path, list[str]]]:
    """Distribution name -> (folder, dependency names) for every adgen package."""
    found = {}
    folders = [*(ROOT / name for name in SHARED_PACKAGES), ROOT / "gateway", ROOT / "cli", *ROOT.glob("services/*")]
    for path in (folder / "pyproject.toml" for folder in folders):
        if not path.exists():
            continue
        project = tomllib.loads(path.read_text()).get("project")
        if project and project["name"].startswith("adgen-"):
            names = [re.split(r"[<>=!~\[; ]", dep, maxsplit=1)[0] for dep in project.get("dependencies", [])]
            found[project["name"]] = (path.parent.relative_to(ROOT), names)
    return found


def _needed(distribution: str, projects: dict[str, tuple[Path, list[str]]]) -> set[str]:
    needed = {distribution}
    for dep in projects[distribution][1]:
        if dep in projects:
            needed |= _needed(dep, projects)
    return needed


DOCKERFILE = ROOT / "deploy" / "Dockerfile"
# Built in the wheel stage of every image; each image installs those its service depends on.
SHARED_PACKAGES = ("gen/python", "kernel", "video", "providers")
CALLS_PROVIDERS = {"planner", "storyboard", "chunks", "refine", "voice"}


def _instructions(dockerfile: Path, build_args: dict[str, str]) -> list[tuple[str, str]]:
    """The Dockerfile's instructions with `${ARG}` expanded as `docker build --build-arg` would."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    lines = [line.strip() for line in text.splitlines()]
    steps = [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines if line and not line.startswith("#")
    ]
    values = dict(build_args)

    def expand(arg: str) -> str:
        return re.sub(r"\$\{(\w+)\}", lambda m: values.get(m.group(1), ""), arg)

    expanded = []
    for op, arg in steps:
        if op == "ARG" and "=" in arg:
            name, default = arg.split("=", 1)
            values.setdefault(name, expand(default))
        expanded.append((op, expand(arg)))
    return expanded


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.mark.parametrize("service", SERVICES)
def test_dockerfile_installs_exactly_the_service_packages(service: str) -> None:
    """One Dockerfile for every image; built for `service`, it installs exactly its packages."""
    package = str(_package_dir(service).relative_to(ROOT))
    build_args = {"SERVICE": service} | ({} if package == f"services/{service}" else {"PACKAGE": package})
    dockerfile = DOCKERFILE
    steps = _instructions(dockerfile, build_args)
    projects = _pyprojects()
    needed = _needed(f"adgen-{service}", projects)
    folders = {str(projects[name][0]) for name in needed}
    providers = {"providers"} if service in CALLS_PROVIDERS else set()
    assert folders == {"gen/python", "kernel", "video", package} | providers

    stages = [i for i, (op, _) in enumerate(steps) if op == "FROM"]
    assert len(stages) >= 2, "multi-stage: wheels are built in one stage, installed in the next"
    build, final = steps[: stages[-1]], steps[stages[-1] :]
    (wheel,) = [shlex.split(arg) for op, arg in build if op == "RUN" and "pip wheel" in arg]
    constraints = [wheel[i + 1] for i, token in enumerate(wheel) if token == "-c"]
    assert constraints == ["requirements/lock.txt", "requirements/assets.txt"], "pinned by the lock files"
    copied = {arg.split()[0] for op, arg in build if op == "COPY"} - set(constraints)
    assert copied == {*SHARED_PACKAGES, package}, f"{dockerfile}: copies {sorted(copied)}"
    assert {t.removeprefix("./") for t in wheel if t.startswith("./")} == {*SHARED_PACKAGES, package}

    (install,) = [shlex.split(arg) for op, arg in final if op == "RUN" and "pip install" in arg]
    assert "--no-index" in install and f"adgen-{service}" in install
    (user,) = [arg for op, arg in final if op == "USER"]
    assert int(user.split(":")[0]) > 0, "the image must not run as root"
    (entrypoint,) = [json.loads(arg) for op, arg in final if op == "ENTRYPOINT"]
    (link,) = [shlex.split(arg) for op, arg in final if op == "RUN" and "adgen-service" in arg]
    assert entrypoint == ["adgen-service"] and f"$(command -v adgen-{service})" in " ".join(link)
    script = tomllib.loads((_package_dir(service) / "pyproject.toml").read_text())["project"]["scripts"]
    assert script[f"adgen-{service}"] == f"adgen_{service}.server:main"
    assert importlib.util.find_spec(f"adgen_{service}.server") is not None

    # `-c` pins only what the lock files list: every third-party dependency must be in one of them.
    locked = {
        _normalise(line.split("==")[0])
        for constraint in constraints
        for line in (ROOT / constraint).read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }
    third_party = {_normalise(dep) for name in needed for dep in projects[name][1] if dep not in projects}
    assert third_party <= locked, f"not pinned in {constraints}: {sorted(third_party - locked)}"
    assert ("torch" in third_party) == (service == "assets"), "only the assets image is to carry torch"
