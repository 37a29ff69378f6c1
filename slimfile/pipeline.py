"""The pass pipeline, in the order the passes run. This is the one place that lists it.

Order matters: steps are put in a cache-friendly order first (a merge must never glue a
stable step to one after the copy of the sources), then stages are split; hygiene inside a
RUN comes before merging RUNs (so merged RUNs are already clean), and cleanup moves come
before merges (so a cleanup lands in the layer that made the mess rather than in a merged
blob).
"""

from __future__ import annotations

from types import ModuleType

from slimfile.diagnostics import Rule
from slimfile.passes import (
    add_to_copy,
    apk,
    apt,
    base_image,
    build_errors,
    cache_order,
    dockerignore,
    language_caches,
    lockfile_install,
    merge_runs,
    move_cleanup,
    multi_stage,
    release_user,
    rpm,
)

PIPELINE: tuple[ModuleType, ...] = (
    # first, what the builder rejects outright (reported, never rewritten)
    build_errors,
    # what the build context sends comes first: a proposed .dockerignore decides what a broad
    # copy brings, which the moves below read from (it edits no byte of the Dockerfile)
    dockerignore,
    # the order of steps first: installs and stable steps go above the copy of the sources
    # before any merge could glue a stable step to one that re-runs on every source change
    cache_order,
    # then the stage split: the build stage keeps the cache-friendly order it was given above
    multi_stage,
    # installs from the lockfile (`npm ci`): a word of a command, decided once steps stand where they stay
    lockfile_install,
    # then the base swap, on the stages the final image is built from once the split is made
    # (a release stage already stands on the slim base), before the apt hygiene of what it adds
    base_image,
    # hygiene inside each RUN first, so that merged RUNs are already clean
    apt,
    apk,
    rpm,
    language_caches,
    # then cleanup moves (a cleanup lands in the layer that made the mess, not in a merged blob)
    move_cleanup,
    # then layer structure
    merge_runs,
    add_to_copy,
    # last: the user of the final image, once its stage (and base) are settled
    release_user,
)


def all_rules() -> list[Rule]:
    """Every rule of every pass, in pipeline order."""
    return [rule for module in PIPELINE for rule in module.RULES]


def rule_by_code(code: str) -> Rule | None:
    key = code.strip().upper()
    for rule in all_rules():
        if rule.code == key or rule.name == code.strip().lower():
            return rule
    return None
