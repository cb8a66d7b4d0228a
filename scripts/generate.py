"""Regenerates gen/python from protos/ with grpcio-tools (make generate).

The output is a pure function of the .proto files, so `make check-generated` can regenerate into
a temporary folder and fail on any difference.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import grpc_tools
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"


def generate(out: Path) -> None:
    package = out / "adgen"
    if package.exists():
        shutil.rmtree(package)
    out.mkdir(parents=True, exist_ok=True)
    sources = sorted(str(p.relative_to(PROTOS)) for p in PROTOS.rglob("*.proto"))
    include = Path(grpc_tools.__file__).parent / "_proto"
    args = [
        "grpc_tools.protoc",
        f"-I{PROTOS}",
        f"-I{include}",
        f"--python_out={out}",
        f"--pyi_out={out}",
        f"--grpc_python_out={out}",
        *sources,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    for folder in [package, *(p for p in package.rglob("*") if p.is_dir())]:
        (folder / "__init__.py").touch()


def main() -> None:
    generate(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "gen" / "python")


if __name__ == "__main__":
    main()
