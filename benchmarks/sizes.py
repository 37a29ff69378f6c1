"""Image sizes before and after slimfile's fixes, measured with real builds.

Runs ``slimfile verify`` on every app in ``fixtures/apps/`` (safe fixes, then unsafe fixes when
they rewrite anything more) and prints a Markdown table: app, size before, size after with safe
fixes, size after with unsafe fixes, ratio, layers, warm-rebuild cached steps. Needs a Docker
engine with the zoo images (``source ../shared/docker-zoo/env.sh``); takes a few minutes.

    python benchmarks/sizes.py                 # every app, Markdown on stdout
    python benchmarks/sizes.py --apps go-service,many-runs --json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from slimfile.engine import Settings, fix_source
from slimfile.verify import VerifyReport, VerifyRequest, verify
from slimfile.verify.docker_engine import Engine
from slimfile.verify.report import human_size

APPS = ROOT / "fixtures" / "apps"


@dataclass
class Row:
    app: str
    safe: VerifyReport
    unsafe: VerifyReport | None  # None: the unsafe rewrite is the safe one

    @property
    def unsafe_or_safe(self) -> VerifyReport:
        return self.unsafe or self.safe

    def cells(self) -> list[str]:
        safe, unsafe = self.safe, self.unsafe_or_safe
        return [
            self.app,
            human_size(_size(safe, "before")),
            human_size(_size(safe, "after")) + _note(safe),
            human_size(_size(unsafe, "after")) + _note(unsafe) + ("" if self.unsafe else " (= safe)"),
            _ratio(safe) + " / " + _ratio(unsafe),
            f"{_layers(safe, 'before')} → {_layers(safe, 'after')} / {_layers(unsafe, 'after')}",
            f"{_warm(safe, 'before')} → {_warm(safe, 'after')} / {_warm(unsafe, 'after')}",
            f"{len(safe.rewrite.applied) if safe.rewrite else 0} / {len(unsafe.rewrite.applied) if unsafe.rewrite else 0}",
        ]

    def to_dict(self) -> dict:
        return {"app": self.app, "safe": self.safe.to_dict(), "unsafe": self.unsafe.to_dict() if self.unsafe else None}


HEADER = [
    "app",
    "size before",
    "after (safe fixes)",
    "after (with unsafe fixes)",
    "ratio safe / unsafe",
    "layers before → safe / unsafe",
    "warm rebuild: cached steps before → safe / unsafe",
    "fixes applied safe / unsafe",
]


def _size(report: VerifyReport, which: str) -> int | None:
    facts = getattr(report, which)
    return facts.size if facts else None


def _note(report: VerifyReport) -> str:
    return "" if report.exit_code == 0 else f" ({report.verdict})"


def _ratio(report: VerifyReport) -> str:
    return "-" if report.size_ratio is None else f"{report.size_ratio:.3f}"


def _layers(report: VerifyReport, which: str) -> str:
    facts = getattr(report, which)
    return "-" if facts is None or facts.layers is None else str(facts.layers)


def _warm(report: VerifyReport, which: str) -> str:
    facts = getattr(report, which)
    build = facts.warm.build if facts and facts.warm else None
    return "-" if build is None or not build.ok else f"{build.cached_steps}/{len(build.steps)}"


def measure(app: str, engine: Engine) -> Row:
    dockerfile = APPS / app / "Dockerfile"
    print(f"verifying {app} (safe fixes)", file=sys.stderr)
    safe = verify(VerifyRequest(dockerfile=dockerfile, settings=Settings()), engine=engine)
    unsafe_settings = Settings(unsafe_fixes=True)
    unsafe_output = fix_source(dockerfile.read_bytes(), str(dockerfile), unsafe_settings).output
    safe_output = fix_source(dockerfile.read_bytes(), str(dockerfile), Settings()).output
    unsafe = None
    if unsafe_output != safe_output:
        print(f"verifying {app} (with unsafe fixes)", file=sys.stderr)
        unsafe = verify(VerifyRequest(dockerfile=dockerfile, settings=unsafe_settings), engine=engine)
    return Row(app, safe, unsafe)


def markdown(rows: list[Row], engine: Engine) -> str:
    versions = engine.versions()
    lines = [
        f"Measured {dt.date.today().isoformat()} with Docker {versions['engine']} (API {versions['api']}, BuildKit), "
        f"slimfile verify on `fixtures/apps/` (sizes as `docker images` reports them, decimal units).",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|" + "---|" * len(HEADER),
    ]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--apps", help="comma-separated app names (default: all)")
    parser.add_argument("--json", action="store_true", help="print the verify reports as JSON")
    args = parser.parse_args(argv)
    apps = args.apps.split(",") if args.apps else sorted(p.name for p in APPS.iterdir() if (p / "Dockerfile").is_file())
    engine = Engine.connect()
    rows = [measure(app, engine) for app in apps]
    if args.json:
        print(json.dumps([row.to_dict() for row in rows], indent=2))
    else:
        print(markdown(rows, engine), end="")
    return 0 if all(row.safe.exit_code == 0 for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
