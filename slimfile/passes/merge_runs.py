"""Merge consecutive RUNs into one layer.

Before::

    RUN groupadd app
    # the service account
    RUN useradd -g app app

After::

    RUN groupadd app \\
        # the service account
        && useradd -g app app

Only RUNs that follow each other directly (comments and blank lines between them are fine)
in the same stage, with the same flags, in shell form and without heredocs are merged; see
:mod:`slimfile.passes.run_merge` for how the join keeps failures and shell state exactly as
they were. By default only *small* RUNs merge (each of at most two commands, hadolint's
DL3059 rule): merging big RUNs costs rebuild time, because a change to either re-runs both.
``preferences.merge-runs = "all"`` merges every mergeable pair.
"""

from __future__ import annotations

from typing import Iterator

from slimfile.analysis.context import Context
from slimfile.diagnostics import Finding, Rule
from slimfile.passes.common import RunInfo, runs, saving
from slimfile.passes.run_merge import MergePlan, merge_edits, plan_merge
from slimfile.shell.cleanup import CleanupProfile
from slimfile.syntax.edits import Fix, Safety

SMALL = 2  # commands per RUN, as hadolint's DL3059 counts them
# A chain of merges (RUNs 1+2, 2+3, ... in one round) carries the cleanup profile of the RUN it
# builds; past this many cleanups the chain's history is dropped and the next merge looks at
# the previous RUN alone (thousands of `RUN rm -rf <path>` made every merge copy all the paths
# before it). A removal that far back is no longer "twice in a row" worth refusing.
CHAIN_PROFILE_LIMIT = 64

MERGE_RUNS = Rule(
    code="SF502",
    name="merge-consecutive-runs",
    summary="Consecutive RUN instructions make one layer each",
    fix_title="Merge the RUNs with `&&`",
    related=("hadolint DL3059",),
    doc="""
## What it does
Merges a RUN into the RUN right before it when both are small (at most two commands each),
follow each other directly in the same stage, and have the same flags. Comments between them
become comment lines inside the continuation, indented as its lines when they were at
column 0; blank lines between them are removed.

Set `preferences.merge-runs = "all"` to merge consecutive RUNs of any size.

## Why is this bad?
Every RUN adds a layer, with its own metadata, tar stream and pull round trip; and a file
written by one RUN and deleted by a later one stays in the earlier layer. Short RUNs in a
row are usually one step.

## Example
```dockerfile
RUN groupadd app
RUN useradd -g app app
```

## Use instead
```dockerfile
RUN groupadd app \\
    && useradd -g app app
```

## Fix safety
Safe. The merged RUN fails exactly where the separate RUNs failed: the first RUN's commands
bind tighter than the new `&&`, and the second RUN runs in a subshell unless it is a plain
`&&` list. When the first RUN changes shell state (`cd`, `export`, `set`, `umask`, `source`,
functions, traps) or can end the shell early (`exit`, `exec`), it runs in a subshell, so
nothing leaks into the second. RUNs with different `--mount`/`--network`/`--security` flags,
exec-form or heredoc RUNs, RUNs under different shells and RUNs separated by any other
instruction are never merged, nor RUNs where the second starts by removing what the first
already removed (`... && rm -rf /var/lib/apt/lists/*`, then `rm -rf /var/lib/apt/lists/* && ...`:
merged, the removal would run twice in a row); nor is a first RUN that relies on `set -e` in
a part that would end up on the left of the new `&&` inside a subshell or compound command,
where the shell ignores `set -e` (`(set -e; ./configure; make) && make install` would go on
after a failed `./configure`).
""",
)

RULES = (MERGE_RUNS,)


def check(ctx: Context) -> Iterator[Finding]:
    merge_all = ctx.option("merge-runs", "small") == "all"
    previous: RunInfo | None = None
    chain: MergePlan | None = None  # the merge offered for `previous`, if any: one RUN with it
    for info in runs(ctx, include_onbuild=False):
        plan = None
        if previous is not None and (merge_all or _both_small(previous, info)):
            plan = plan_merge(ctx, previous, info, _chain_profile(chain))
            if isinstance(plan, MergePlan):
                yield _finding(ctx, plan)
        chain = plan if isinstance(plan, MergePlan) else None
        previous = info


def _chain_profile(chain: MergePlan | None) -> CleanupProfile | None:
    """The profile of the RUN a chain of merges builds, unless it grew past the limit."""
    if chain is None:
        return None
    profile = chain.cleanups
    if len(profile.done) + len(profile.leading) > CHAIN_PROFILE_LIMIT:
        return None
    return profile


def _both_small(first: RunInfo, second: RunInfo) -> bool:
    return len(first.script.commands) <= SMALL and len(second.script.commands) <= SMALL


def _finding(ctx: Context, plan: MergePlan) -> Finding:
    second = plan.second.instruction
    start, end = second.keyword_source_span()
    message = f"RUN directly follows the RUN on line {plan.first.instruction.start_line}; merge them into one layer"
    if plan.wrap_first:
        message += f" (the first runs in a subshell: {plan.wrap_first})"
    return Finding(
        MERGE_RUNS,
        message,
        start,
        end,
        Fix(merge_edits(ctx, plan), Safety.SAFE, MERGE_RUNS.fix_title, runs_removed=1, joins=plan.joins),
        saving("merge-runs", count="1"),
    )
