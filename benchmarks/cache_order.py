"""Warm rebuilds before and after the cache-order fixes (SF701, SF703), and against an expert.

For every cache-order app in ``fixtures/apps/`` (``MANIFESTS`` below; each has an
``expert.Dockerfile``, the rewrite a careful engineer writes by hand), three Dockerfiles are
measured with real builds:

- the original (the naive order: ``COPY . .`` first),
- slimfile's rewrite (``slimfile fix --unsafe-fixes``), verified against the original with
  ``slimfile verify --unsafe-fixes --run ''`` (same files, config and output),
- the expert's, verified against the original the same way (``VerifyRequest.rewritten``: no
  fix declares anything, so any difference counts).

Each is built cold, then rebuilt twice with the cache: after a one-line edit of a source file
(verify's warm-rebuild probe: what every commit does) and after an edit of a dependency
manifest that installs the same thing (a comment line; in package.json a ``"//"`` key, npm's
comment convention): the install re-runs, as after a dependency bump. Every edit carries a
random token, so no rebuild is served from the cache of another variant's. The table gives the Dockerfile steps
BuildKit served from the cache, the seconds each rebuild took and the image sizes. Needs a
Docker engine with the zoo images (``source ../shared/docker-zoo/env.sh``); a few minutes.

    python benchmarks/cache_order.py                     # Markdown on stdout
    python benchmarks/cache_order.py --apps pip-nested --json reports.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from slimfile.engine import Settings, fix_source  # noqa: E402
from slimfile.verify import VerifyReport, VerifyRequest, verify  # noqa: E402
from slimfile.verify.build import BuildResult, run_build  # noqa: E402
from slimfile.verify.docker_engine import Engine  # noqa: E402
from slimfile.verify.report import human_size  # noqa: E402

APPS = ROOT / "fixtures" / "apps"
EXPERT = "expert.Dockerfile"
# the cache-order apps, and the dependency manifest each one's manifest-edit rebuild changes
# (other apps have expert.Dockerfiles too, for other rules: they are not measured here)
MANIFESTS = {
    "copy-order": "requirements.txt",
    "npm-build": "package.json",
    "node-user": "package.json",
    "pnpm-app": "package.json",
    "pip-nested": "requirements/base.txt",
    "sys-packages": "requirements.txt",
    "poetry-app": "pyproject.toml",
    "go-stdlib": "go.mod",
}
ROLES = ("original", "slimfile", "expert")


@dataclass
class Measured:
    """One app: slimfile's and the expert's verification, and the manifest-edit rebuilds."""

    app: str
    slimfile: VerifyReport
    expert: VerifyReport
    manifest_edit: dict[str, BuildResult | None]

    def source_edit(self, role: str) -> BuildResult | None:
        report = self.expert if role == "expert" else self.slimfile
        facts = report.before if role == "original" else report.after
        return facts.warm.build if facts and facts.warm else None

    def cold(self, role: str) -> BuildResult | None:
        report = self.expert if role == "expert" else self.slimfile
        facts = report.before if role == "original" else report.after
        return facts.build if facts else None

    def size(self, role: str) -> int | None:
        report = self.expert if role == "expert" else self.slimfile
        facts = report.before if role == "original" else report.after
        return facts.size if facts else None

    def to_dict(self) -> dict:
        return {
            "app": self.app,
            "slimfile": self.slimfile.to_dict(),
            "expert": self.expert.to_dict(),
            "manifest_edit": {
                "file": MANIFESTS.get(self.app),
                **{role: _with_steps(build) for role, build in self.manifest_edit.items()},
            },
        }


def _with_steps(build: BuildResult | None) -> dict | None:
    return None if build is None else {**build.to_dict(), "step_list": [step.to_dict() for step in build.steps]}


def cache_order_apps() -> list[str]:
    return sorted(app for app in MANIFESTS if (APPS / app / EXPERT).is_file())


def measure(app: str, engine: Engine) -> Measured:
    directory = APPS / app
    dockerfile = directory / "Dockerfile"
    settings = Settings(unsafe_fixes=True)
    print(f"{app}: verifying slimfile's rewrite (--unsafe-fixes)", file=sys.stderr)
    slimfile = verify(VerifyRequest(dockerfile=dockerfile, settings=settings, run=""), engine=engine)
    print(f"{app}: verifying the expert's rewrite", file=sys.stderr)
    expert = verify(VerifyRequest(dockerfile=dockerfile, rewritten=directory / EXPERT, run=""), engine=engine)
    rewrite = fix_source(dockerfile.read_bytes(), str(dockerfile), settings).output
    return Measured(app, slimfile, expert, manifest_edit_rebuilds(app, {"original": dockerfile.read_bytes(), "slimfile": rewrite, "expert": (directory / EXPERT).read_bytes()}, engine))


def manifest_edit_rebuilds(app: str, dockerfiles: dict[str, bytes], engine: Engine) -> dict[str, BuildResult | None]:
    """Rebuild each Dockerfile with the cache of its cold build after a one-line change to the
    app's manifest; the images are removed, the manifest restored."""
    manifest = MANIFESTS.get(app)
    if manifest is None:
        return {role: None for role in dockerfiles}
    context = APPS / app
    results: dict[str, BuildResult | None] = {}
    with tempfile.TemporaryDirectory(prefix="slimfile-cache-order-") as scratch:
        workdir = Path(scratch)
        for role, text in dockerfiles.items():
            path = workdir / f"{role}.Dockerfile"
            path.write_bytes(text)
            tag = f"slimfile-verify:cache-order-{app}-{role}-manifest"
            print(f"{app}: rebuilding the {role} Dockerfile after a change to {manifest}", file=sys.stderr)
            # a cold build first: the cache a developer has before touching the manifest
            cold = run_build(engine, path, context, tag, workdir=workdir)
            if not cold.ok:
                results[role] = cold
                continue
            with manifest_change(context / manifest):
                results[role] = run_build(engine, path, context, tag, workdir=workdir)
            engine.remove_images([tag])
    return results


@contextmanager
def manifest_change(path: Path) -> Iterator[None]:
    """Change ``path`` without changing what gets installed, then put it back byte for byte
    (with its times): a ``"//"`` key in JSON, a comment line elsewhere; a random token each time."""
    token = f"slimfile benchmark probe {secrets.token_hex(6)}"
    times = path.stat()
    original = path.read_bytes()
    if path.suffix == ".json":
        changed = json.dumps({"//": token, **json.loads(original)}, indent=2).encode() + b"\n"
    else:
        marker = b"//" if path.name == "go.mod" else b"#"
        changed = original + (b"" if original.endswith(b"\n") else b"\n") + marker + b" " + token.encode() + b"\n"
    try:
        path.write_bytes(changed)
        yield
    finally:
        path.write_bytes(original)
        os.utime(path, ns=(times.st_atime_ns, times.st_mtime_ns))


# -- the table ----------------------------------------------------------------------------------

HEADER = [
    "app",
    "verified (slimfile / expert)",
    "source edit: cached steps, seconds — original",
    "slimfile",
    "expert",
    "manifest edit: cached steps, seconds — original",
    "slimfile",
    "expert",
    "cold build s (original / slimfile / expert)",
    "size (original / slimfile / expert)",
]


def _warm(build: BuildResult | None) -> str:
    if build is None:
        return "-"
    if not build.ok:
        return "fails"
    return f"{build.cached_steps}/{len(build.steps)}, {build.seconds:.1f} s"


def _seconds(build: BuildResult | None) -> str:
    return "-" if build is None or not build.ok else f"{build.seconds:.1f}"


def cells(row: Measured) -> list[str]:
    return [
        f"`{row.app}`",
        f"{row.slimfile.verdict} / {row.expert.verdict}",
        *(_warm(row.source_edit(role)) for role in ROLES),
        *(_warm(row.manifest_edit.get(role)) for role in ROLES),
        " / ".join(_seconds(row.cold(role)) for role in ROLES),
        " / ".join(human_size(row.size(role)) for role in ROLES),
    ]


def markdown(rows: list[Measured], engine: Engine) -> str:
    versions = engine.versions()
    lines = [
        f"Measured {dt.date.today().isoformat()} with Docker {versions['engine']} (API {versions['api']}, BuildKit), "
        "`python benchmarks/cache_order.py` on the cache-order apps of `fixtures/apps/`.",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|" + "---|" * len(HEADER),
    ]
    lines += ["| " + " | ".join(cells(row)) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--apps", help="comma-separated app names (default: every cache-order app)")
    parser.add_argument("--json", metavar="PATH", help="also write the verify reports and rebuilds as JSON")
    args = parser.parse_args(argv)
    apps = args.apps.split(",") if args.apps else cache_order_apps()
    engine = Engine.connect()
    rows = [measure(app, engine) for app in apps]
    if args.json:
        Path(args.json).write_text(json.dumps([row.to_dict() for row in rows], indent=2) + "\n")
    print(markdown(rows, engine), end="")
    return 0 if all(row.slimfile.exit_code == 0 and row.expert.exit_code == 0 for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
