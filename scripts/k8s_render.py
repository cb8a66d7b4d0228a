"""Renders every kustomize overlay under deploy/k8s and validates every object it produces.

Kubernetes kinds are checked against the API schemas shipped by kubernetes-validate, strictly (an
unknown or misspelt field fails); KEDA ScaledObjects against deploy/k8s/schemas, a schema of the
fields KEDA documents for a ScaledObject and for the triggers adgen uses. The rendered overlays are
written to out/k8s/<overlay>.yaml, ready for `kubectl apply -f`. `make k8s-render` runs this after
scripts/k8s-tools.sh has installed the renderer; tests/test_k8s_manifests.py imports `render`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")
# The oldest Kubernetes minor adgen supports: native gRPC probes are GA since 1.27, and
# validating against an older schema keeps the manifests usable on clusters a few versions back.
KUBERNETES_VERSION = "1.31"
# Kinds that are not part of Kubernetes itself, each checked against a schema of our own.
CUSTOM_SCHEMAS = {("keda.sh/v1alpha1", "ScaledObject"): K8S / "schemas" / "keda-scaledobject.schema.json"}

Manifest = dict[str, Any]


class RendererUnavailable(RuntimeError):
    """No kubectl to render kustomize with: `make k8s-render` installs one (scripts/k8s-tools.sh)."""


def kubectl() -> str:
    """The pinned kubectl that scripts/k8s-tools.sh links into the venv, else one on PATH."""
    pinned = ROOT / ".venv" / "bin" / "kubectl"
    if pinned.exists():
        return str(pinned)
    found = shutil.which("kubectl")
    if found is None:
        raise RendererUnavailable("kubectl is not installed: run `make k8s-render` (scripts/k8s-tools.sh) once")
    return found


def render(overlay: str) -> list[Manifest]:
    """The objects `kubectl kustomize deploy/k8s/overlays/<overlay>` produces, parsed."""
    return list(yaml.safe_load_all(render_text(overlay)))


@cache
def render_text(overlay: str) -> str:
    result = subprocess.run(
        [kubectl(), "kustomize", str(K8S / "overlays" / overlay)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"kustomize failed for overlay {overlay!r}: {result.stderr.strip()}")
    return result.stdout


def validate(objects: list[Manifest]) -> list[str]:
    """One line per problem, naming the object and the field; empty when every object is valid."""
    import jsonschema
    import kubernetes_validate

    problems = []
    for obj in objects:
        name = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
        custom = CUSTOM_SCHEMAS.get((obj.get("apiVersion"), obj.get("kind")))
        try:
            if custom is not None:
                errors = list(jsonschema.Draft202012Validator(_schema(custom)).iter_errors(obj))
            else:
                kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
                errors = []
        except jsonschema.ValidationError as error:  # kubernetes-validate stops at the first one
            errors = [error]
        except kubernetes_validate.SchemaNotFoundError as error:
            problems.append(f"{name}: {error.message}; add a schema to CUSTOM_SCHEMAS")
            continue
        for error in errors:
            where = ".".join(str(part) for part in error.absolute_path) or "(object)"
            problems.append(f"{name}: {where}: {error.message}")
    return problems


@cache
def _schema(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def main() -> int:
    out = ROOT / "out" / "k8s"
    out.mkdir(parents=True, exist_ok=True)
    failed = False
    for overlay in OVERLAYS:
        objects = render(overlay)
        (out / f"{overlay}.yaml").write_text(render_text(overlay))
        problems = validate(objects)
        for problem in problems:
            print(f"{overlay}: {problem}", file=sys.stderr)
        failed |= bool(problems)
        kinds = sorted({str(obj["kind"]) for obj in objects})
        status = f"{len(problems)} invalid" if problems else "all valid"
        print(f"{overlay}: {len(objects)} objects ({', '.join(kinds)}), {status} -> out/k8s/{overlay}.yaml")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
