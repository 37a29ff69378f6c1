"""One BuildKit build and what its progress output says: which Dockerfile steps ran and which
were taken from the cache.

A build that fails is run once more with the same options, after a pause: a package index,
mirror or engine that fails for a moment must not decide a verdict about a rewrite (a failure
the Dockerfile causes fails again). pip and npm retry a request for some seconds themselves, so
a failure that reaches the build outlasted those: the pause gives the index that much again.
The result says how many tries it took and how the first one ended."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from slimfile.verify.docker_engine import Engine

# "#7 [build 3/5] RUN go build ." and, later for the same vertex, "#7 CACHED"
_STEP = re.compile(r"^#(?P<vertex>\d+) \[(?:(?P<stage>[^\]]*?) )?(?P<index>\d+)/(?P<total>\d+)\] (?P<text>.*)$")
_CACHED = re.compile(r"^#(?P<vertex>\d+) CACHED\s*$")
LOG_TAIL = 40
BUILD_TRIES = 2
RETRY_PAUSE = 20.0  # seconds between a failed try and the next


@dataclass(frozen=True)
class Step:
    stage: str | None
    index: int
    total: int
    instruction: str
    cached: bool

    @property
    def is_from(self) -> bool:
        return self.instruction.upper().startswith("FROM ")

    def to_dict(self) -> dict:
        return {"stage": self.stage, "instruction": self.instruction, "cached": self.cached}


def parse_steps(lines: Sequence[str]) -> list[Step]:
    """The Dockerfile steps of a plain-progress build log, FROM lines left out (they are never
    "cached": the base image is simply there), in the order they first appear."""
    found: dict[str, tuple[str | None, int, int, str]] = {}
    cached: set[str] = set()
    for line in lines:
        if match := _STEP.match(line):
            found.setdefault(match["vertex"], (match["stage"], int(match["index"]), int(match["total"]), match["text"].strip()))
        elif match := _CACHED.match(line):
            cached.add(match["vertex"])
    steps = [Step(stage, index, total, text, vertex in cached) for vertex, (stage, index, total, text) in found.items()]
    return [s for s in steps if not s.is_from]


@dataclass
class BuildResult:
    tag: str
    ok: bool
    seconds: float
    image_id: str | None
    steps: list[Step] = field(default_factory=list)
    log_tail: list[str] = field(default_factory=list)
    tries: int = 1
    # the end of the first try's log when it failed and the build was run again
    first_failure: list[str] = field(default_factory=list)

    @property
    def cached_steps(self) -> int:
        return sum(1 for s in self.steps if s.cached)

    @property
    def built_on_retry(self) -> bool:
        return self.ok and self.tries > 1

    def retry_note(self) -> str | None:
        """How a build that needed another try went, in the words both reports use."""
        if self.tries < 2:
            return None
        what = "failed once and built when run again" if self.ok else "failed, and failed again when run once more"
        last = self.first_failure[-1] if self.first_failure else "no output"
        return f"{what} (first try ended: {last})"

    def to_dict(self) -> dict:
        data: dict[str, Any] = {
            "ok": self.ok,
            "seconds": round(self.seconds, 2),
            "image_id": self.image_id,
            "steps": len(self.steps),
            "cached_steps": self.cached_steps,
            "tries": self.tries,
        }
        if self.first_failure:
            data["first_failure_tail"] = self.first_failure
        if not self.ok:
            data["log_tail"] = self.log_tail
        return data


def run_build(
    engine: Engine,
    dockerfile: Path,
    context: Path,
    tag: str,
    *,
    workdir: Path,
    target: str | None = None,
    no_cache: bool = False,
    on_line: Callable[[str], None] | None = None,
    tries: int = BUILD_TRIES,
) -> BuildResult:
    """The build, run up to ``tries`` times until it succeeds; the last try's measures."""
    first_failure: list[str] = []
    for attempt in range(1, tries + 1):
        output = engine.build(dockerfile, context, tag, target=target, no_cache=no_cache, on_line=on_line, workdir=workdir)
        ok = output.returncode == 0 and output.image_id is not None
        if ok or attempt == tries:
            break
        first_failure = first_failure or failure_tail(output.lines)
        if on_line is not None:
            on_line(f"the build failed: trying once more in {RETRY_PAUSE:.0f} s")
        time.sleep(RETRY_PAUSE)
    return BuildResult(
        tag=tag,
        ok=ok,
        seconds=output.seconds,
        image_id=output.image_id,
        steps=parse_steps(output.lines),
        log_tail=[] if ok else failure_tail(output.lines),
        tries=attempt,
        first_failure=first_failure,
    )


def failure_tail(lines: Sequence[str], size: int = LOG_TAIL) -> list[str]:
    """The end of a failed build log: BuildKit repeats the failing step's output and the error
    there."""
    return list(lines[-size:])
