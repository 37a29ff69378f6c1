"""What a rewrite must not change unless a fix says so (black's ``--safe`` idea).

After every round of fixes the new file is parsed again and its summary compared with the
old one: same stages with the same names and bases, and the same final-stage config
(CMD, ENTRYPOINT, USER, WORKDIR, ENV, ...). A fix that changes one of these must declare it.
"""

from __future__ import annotations

from slimfile.syntax.nodes import Dockerfile

# instructions whose arguments become the image's config (or the build's interface)
CONFIG_KEYWORDS = frozenset(
    {"CMD", "ENTRYPOINT", "USER", "WORKDIR", "ENV", "EXPOSE", "VOLUME", "STOPSIGNAL", "HEALTHCHECK", "LABEL", "SHELL", "ONBUILD", "ARG"}
)


def _normalise(args: bytes) -> str:
    return " ".join(args.decode("utf-8", "surrogateescape").split())


def stage_summary(dockerfile: Dockerfile) -> list[tuple]:
    model = dockerfile.stages
    return [
        (stage.alias, stage.image_text, stage.platform)
        for stage in model.stages
    ]


def config_summary(dockerfile: Dockerfile, *, skip: frozenset[str] = frozenset()) -> list[tuple]:
    """Config instructions of every stage, in order (whitespace inside arguments normalised)."""
    out = []
    for stage in dockerfile.stages.stages:
        for instruction in stage.instructions:
            if instruction.name in CONFIG_KEYWORDS and instruction.name not in skip:
                out.append((stage.alias or stage.index, instruction.name, instruction.flag_values(), _normalise(instruction.args)))
    return out


def final_config(dockerfile: Dockerfile, *, skip: frozenset[str] = frozenset()) -> list[tuple]:
    """Config instructions that shape the final image: its stage and the stages under it."""
    chain = []
    stage = dockerfile.stages.final
    while stage is not None and stage not in chain:
        chain.append(stage)
        stage = stage.base_stage
    out = []
    for member in reversed(chain):
        for instruction in member.instructions:
            if instruction.name in CONFIG_KEYWORDS and instruction.name not in skip:
                out.append((instruction.name, instruction.flag_values(), _normalise(instruction.args)))
    return out


def global_args(dockerfile: Dockerfile) -> list[str]:
    return [_normalise(i.args) for i in dockerfile.stages.global_args]


def run_count(dockerfile: Dockerfile) -> int:
    """RUN instructions, ONBUILD RUNs included."""
    return sum(1 for node in dockerfile.instructions if node.effective.name == "RUN")


def instruction_outline(dockerfile: Dockerfile) -> list[tuple]:
    """Every instruction that is neither RUN, FROM nor config, in order, with its flags and
    arguments (ADD and COPY count as one kind: ADD→COPY keeps the outline)."""
    out = []
    for node in dockerfile.instructions:
        name = node.effective.name
        if name in ("RUN", "FROM") or name in CONFIG_KEYWORDS or node.name == "ONBUILD":
            continue
        out.append(("COPY" if name == "ADD" else name, node.flag_values(), _normalise(node.args)))
    return out


def semantic_differences(
    before: Dockerfile, after: Dockerfile, declared: frozenset[str], runs_removed: int = 0
) -> list[str]:
    """Human-readable differences that no applied fix declared."""
    problems = []
    expected_runs = run_count(before) - runs_removed
    if run_count(after) != expected_runs:
        problems.append(f"RUN instructions: expected {expected_runs}, found {run_count(after)} (one was lost or swallowed)")
    if "instructions" not in declared and instruction_outline(before) != instruction_outline(after):
        problems.append("COPY/ADD/other instructions changed, appeared or disappeared")
    if before.escape != after.escape:
        problems.append("escape character changed")
    if [(d.name, d.value) for d in before.directives] != [(d.name, d.value) for d in after.directives]:
        problems.append("parser directives changed")
    old_stages, new_stages = stage_summary(before), stage_summary(after)
    if "stages" not in declared:
        if len(old_stages) != len(new_stages) or [s[0] for s in old_stages] != [s[0] for s in new_stages]:
            problems.append("stages changed (count, order or names)")
        elif "base-image" not in declared and old_stages != new_stages:
            problems.append("a stage's base image or platform changed")
    skip = frozenset({"ONBUILD"}) if "onbuild" in declared else frozenset()
    if "config" not in declared:
        # a fix that restructures stages may move config between stages, but the final image's
        # config (its stage and the stages it is built FROM) must still be the same
        summarise = final_config if "stages" in declared else config_summary
        if summarise(before, skip=skip) != summarise(after, skip=skip):
            problems.append("image config instructions changed (CMD/ENTRYPOINT/USER/WORKDIR/ENV/...)")
    if global_args(before) != global_args(after) and "stages" not in declared:
        problems.append("global ARGs changed")
    return problems
