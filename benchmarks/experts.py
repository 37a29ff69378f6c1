"""How close slimfile's rewrite gets to the one a careful engineer writes by hand.

For every app in ``fixtures/apps/`` with an ``expert.Dockerfile`` (the hand-written rewrite),
builds three images with ``slimfile verify``: the original, slimfile's rewrite (unsafe fixes
included), and the expert's, and prints a Markdown table: sizes, slimfile's size as a multiple
of the expert's, layers, and the steps a warm rebuild after a one-line source edit takes from
the cache. The expert's file is run through verify as if it were one fix that rewrites the
whole file, so both rewrites are measured the same way (builds, exports, runs). Needs a Docker
engine with the zoo images (``source ../shared/docker-zoo/env.sh``).

    python benchmarks/experts.py                       # every app with an expert.Dockerfile
    python benchmarks/experts.py --apps go-single-stage,go-cgo --json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from slimfile.analysis.summary import run_count
from slimfile.diagnostics import Finding, Rule
from slimfile.engine import Settings
from slimfile.syntax.edits import Edit, Fix, Safety
from slimfile.syntax.parser import parse
from slimfile.verify import VerifyReport, VerifyRequest, verify
from slimfile.verify.docker_engine import Engine
from slimfile.verify.report import human_size

APPS = ROOT / "fixtures" / "apps"
EXPERT = Rule("XP001", "expert-rewrite", "the hand-written rewrite", "Use the expert's Dockerfile", "")
# the expert may change anything a person may: declare it all, measure it like slimfile's
EVERYTHING = frozenset({"stages", "instructions", "base-image", "config", "packages", "app-files"})
# apps whose CMD is a server that never exits: not run here (tests/verify/test_split_apps.py
# compares their HTTP answers)
SERVERS = {"node-static-site"}


def expert_pass(expert: bytes):
    def check(ctx):
        if ctx.source == expert:
            return
        runs_removed = run_count(ctx.dockerfile) - run_count(parse(expert))
        fix = Fix((Edit(0, len(ctx.source), expert),), Safety.UNSAFE, "expert", EVERYTHING, runs_removed=runs_removed)
        yield Finding(EXPERT, "expert", 0, len(ctx.source), fix)

    return check


def measure(app: str, engine: Engine) -> dict:
    directory = APPS / app
    dockerfile = directory / "Dockerfile"
    run = None if app in SERVERS else ""
    print(f"{app}: slimfile's rewrite", file=sys.stderr)
    ours = verify(VerifyRequest(dockerfile=dockerfile, settings=Settings(unsafe_fixes=True), run=run), engine=engine)
    print(f"{app}: the expert's rewrite", file=sys.stderr)
    theirs = verify(
        VerifyRequest(dockerfile=dockerfile, settings=Settings(unsafe_fixes=True), run=run),
        engine=engine,
        passes=(expert_pass((directory / "expert.Dockerfile").read_bytes()),),
    )
    return {"app": app, "slimfile": ours, "expert": theirs}


def _size(report: VerifyReport, which: str) -> int | None:
    facts = getattr(report, which)
    return facts.size if facts else None


def _warm(report: VerifyReport) -> str:
    facts = report.after
    build = facts.warm.build if facts and facts.warm else None
    return "-" if build is None or not build.ok else f"{build.cached_steps}/{len(build.steps)}"


def _warm_before(report: VerifyReport) -> str:
    facts = report.before
    build = facts.warm.build if facts and facts.warm else None
    return "-" if build is None or not build.ok else f"{build.cached_steps}/{len(build.steps)}"


def row(result: dict) -> list[str]:
    ours, theirs = result["slimfile"], result["expert"]
    before, mine, expert = _size(ours, "before"), _size(ours, "after"), _size(theirs, "after")
    multiple = f"{mine / expert:.2f}x" if mine and expert else "-"
    return [
        result["app"],
        human_size(before),
        human_size(mine) + ("" if ours.exit_code == 0 else f" ({ours.verdict})"),
        human_size(expert),
        multiple,
        f"{_warm_before(ours)} → {_warm(ours)} / {_warm(theirs)}",
        "server (not run)" if result["app"] in SERVERS else "same" if (ours.run and theirs.run and not ours.run.differences() and not theirs.run.differences()) else "see report",
    ]


HEADER = ["app", "original", "slimfile (unsafe fixes)", "expert", "slimfile / expert", "warm rebuild cached: original → slimfile / expert", "runs"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--apps", help="comma-separated app names (default: every app with an expert.Dockerfile)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    apps = args.apps.split(",") if args.apps else sorted(p.parent.name for p in APPS.glob("*/expert.Dockerfile"))
    engine = Engine.connect()
    results = [measure(app, engine) for app in apps]
    if args.json:
        print(json.dumps([{"app": r["app"], "slimfile": r["slimfile"].to_dict(), "expert": r["expert"].to_dict()} for r in results], indent=2))
        return 0
    versions = engine.versions()
    print(f"Measured {dt.date.today().isoformat()} with Docker {versions['engine']} (API {versions['api']}), `python benchmarks/experts.py`.\n")
    print("| " + " | ".join(HEADER) + " |")
    print("|" + "---|" * len(HEADER))
    for result in results:
        print("| " + " | ".join(row(result)) + " |")
    return 0 if all(r["slimfile"].exit_code == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
