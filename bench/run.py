"""`make bench`: runs every bench/bench_*.py and writes bench/report.md.

Each benchmark module has `run() -> Report`: a title, a table (header + rows) and notes. Figures are
measured on this machine in this run; ratios are against baselines measured in the same run.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass
class Report:
    title: str
    header: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def markdown(self) -> str:
        lines = [f"## {self.title}", "", "| " + " | ".join(self.header) + " |", "|" + "---|" * len(self.header)]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        lines += [""] + [f"* {note}" for note in self.notes]
        return "\n".join(lines) + "\n"


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


MARK = "<!-- bench:{} -->"


def previous_sections(report: Path) -> dict[str, str]:
    """The sections of an earlier report, by benchmark name, so a partial run keeps the others."""
    if not report.exists():
        return {}
    sections: dict[str, str] = {}
    for part in report.read_text().split("<!-- bench:")[1:]:
        name, _, body = part.partition(" -->")
        sections[name] = body.strip("\n") + "\n"
    return sections


def main() -> None:
    only = set(sys.argv[1:])
    out = HERE / "report.md"
    sections = previous_sections(out)
    for path in sorted(HERE.glob("bench_*.py")):
        name = path.stem.removeprefix("bench_")
        if only and name not in only:
            continue
        started = time.perf_counter()
        print(f"bench: {name} …", flush=True)
        report = _load(path).run()
        report.notes.append(
            f"measured {time.strftime('%Y-%m-%d %H:%M')}; benchmark wall time {time.perf_counter() - started:.1f} s"
        )
        sections[name] = report.markdown()
    header = (
        "# adgen benchmark report\n\n"
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}. "
        "Each section says when it was measured; `make bench ONLY=name` refreshes one.\n\n"
    )
    body = "\n".join(f"{MARK.format(name)}\n{text}" for name, text in sorted(sections.items()))
    out.write_text(header + body)
    print(f"bench: wrote {out}")


if __name__ == "__main__":
    main()
