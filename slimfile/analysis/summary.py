"""What a rewrite must not change unless a fix says so (black's ``--safe`` idea).

After every round of fixes the new file is parsed again and its summary compared with the
old one: same stages with the same names and bases, and the same final-stage config
(CMD, ENTRYPOINT, USER, WORKDIR, ENV, ...). A fix that changes one of these must declare it.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Sequence

from slimfile.syntax.edits import Edit, apply_edits
from slimfile.syntax.gocompat import parse_words
from slimfile.syntax.nodes import Dockerfile
from slimfile.syntax.stages import Stage

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


def _final_lineage(dockerfile: Dockerfile) -> list[Stage]:
    """The final stage and the stages it is built FROM, nearest first."""
    final = dockerfile.stages.final
    return final.lineage() if final is not None else []


def image_config(dockerfile: Dockerfile) -> dict[str, object]:
    """The final image's config as far as the Dockerfile sets it (docker inspect's Config,
    without what the base image brings): what a stage split must keep. ARG lines are not
    part of it, and ENV/LABEL count by their final values, so a release stage that repeats
    only what the image needs compares equal."""
    config: dict[str, object] = {"Env": {}, "Labels": {}, "ExposedPorts": set(), "Volumes": set(), "OnBuild": []}
    workdir: list[str] | None = None
    for member in reversed(_final_lineage(dockerfile)):
        for node in member.instructions:
            if node.name == "WORKDIR":
                workdir = _change_directory(workdir or [], _normalise(node.args).strip("\"'"))
            else:
                _fold_config(config, node, dockerfile.escape)
    if workdir is not None:
        config["WorkingDir"] = "/" + "/".join(workdir)
    return config


def _change_directory(parts: list[str], text: str) -> list[str]:
    """The components of the working directory after ``WORKDIR text``, changed in place: a
    chain of relative WORKDIRs costs its own length, not a longer path joined at every line."""
    if text.startswith("/"):
        parts.clear()
    for part in text.split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part and part != ".":
            parts.append(part)
    return parts


def _fold_config(config: dict[str, object], node, escape: str) -> None:
    name = node.name
    text = _normalise(node.args)
    if name == "ENV":
        words = parse_words(node.args_text, escape)
        if words and "=" not in words[0]:
            config["Env"][words[0]] = " ".join(words[1:])
        else:
            config["Env"].update(w.split("=", 1) for w in words if "=" in w)
    elif name == "LABEL":
        config["Labels"].update(w.split("=", 1) for w in parse_words(node.args_text, escape) if "=" in w)
    elif name == "EXPOSE":
        config["ExposedPorts"].update(text.split())
    elif name == "VOLUME":
        config["Volumes"].update(node.json if node.json is not None else text.split())
    elif name == "ONBUILD":
        config["OnBuild"].append(text)
    elif name in _FIELDS:
        field = _FIELDS[name]
        config[field] = (tuple(node.json) if node.json is not None else text, node.flag_values())
        if name == "ENTRYPOINT":
            config.pop("Cmd", None)  # ENTRYPOINT resets an inherited CMD, as Docker does
    elif name in ("USER", "STOPSIGNAL", "MAINTAINER"):
        config[{"USER": "User", "STOPSIGNAL": "StopSignal", "MAINTAINER": "Author"}[name]] = text


# instructions whose value is Docker's config field of the same meaning (docker inspect names)
_FIELDS = {"CMD": "Cmd", "ENTRYPOINT": "Entrypoint", "SHELL": "Shell", "HEALTHCHECK": "Healthcheck"}


def _config_changes(old: dict, new: dict, declared: frozenset[str]) -> list[str]:
    """Config keys that differ and that no ``config:<Key>`` (or, for Env and Labels,
    ``config:Env:<NAME>``) declaration allows."""
    changed = []
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key), new.get(key)
        if before == after or f"config:{key}" in declared:
            continue
        if isinstance(before, dict) and isinstance(after, dict):
            names = {n for n in set(before) | set(after) if before.get(n) != after.get(n)}
            if all(f"config:{key}:{n}" in declared for n in names):
                continue
        changed.append(key)
    return changed


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


def instruction_key(name: str, flags: tuple[str, ...], args: str) -> str:
    """One instruction as the guard compares it: keyword, flags, arguments with whitespace runs
    made single spaces."""
    return " ".join([name.upper(), *flags, " ".join(args.split())]).strip()


def _node_key(node) -> str:
    """ADD and COPY count as one kind, as in :func:`instruction_outline`: an ADD→COPY fix in
    one stage must not read as an instruction that disappeared when another fix of the round
    reorders a stage."""
    name = "COPY" if node.name == "ADD" else node.name
    return instruction_key(name, node.flag_values(), node.args.decode("utf-8", "surrogateescape"))


def added_key(text: str, escape: str = "\\") -> str:
    """The key of an instruction a fix adds, read by the parser as the guard reads the file
    (``copy --chown="$U" a ./`` -> ``COPY --chown=$U a ./``); ``RUN`` for a split-off RUN."""
    from slimfile.syntax.parser import parse

    if text == "RUN":
        return "RUN"
    directive = f"# escape={escape}\n" if escape != "\\" else ""
    tree = parse(f"{directive}FROM scratch\n{text}\n".encode("utf-8", "surrogateescape"))
    return _node_key(tree.instructions[-1])


_MOVABLE = frozenset({"RUN", "ENV", "ARG"})


def reorder_differences(
    before: Dockerfile, after: Dockerfile, adds: Sequence[str], in_place: Sequence[Edit] = ()
) -> list[str]:
    """What a reorder may not change: per stage, the same instructions plus the declared new
    ones; only RUN, ENV and ARG change places; every variable keeps its sequence of values.
    ``in_place``: the edits of the round's other fixes, which change instructions where they
    stand (a trigger's text, an ADD made a COPY): the instructions they edit are compared as
    those edits leave them."""
    old_stages, new_stages = before.stages.stages, after.stages.stages
    if len(old_stages) != len(new_stages):
        return ["stages changed (count)"]
    problems: list[str] = []
    declared = Counter(key for key in (added_key(text, before.escape) for text in adds) if key != "RUN")
    edited = _keys_after_edits(before, in_place)
    for old, new in zip(old_stages, new_stages):
        old_keys = Counter(edited.get(id(n)) or _node_key(n) for n in old.instructions if n.name != "RUN")
        new_keys = Counter(_node_key(n) for n in new.instructions if n.name != "RUN")
        appeared = new_keys - old_keys
        if old_keys - new_keys or appeared - declared:
            problems.append(f"stage {old.label}: instructions other than the declared new ones appeared or disappeared")
        declared -= appeared
        if _fixed_order(old, Counter(), edited) != _fixed_order(new, appeared):
            problems.append(f"stage {old.label}: instructions other than RUN, ENV and ARG changed order")
        if _variable_sequences(old) != _variable_sequences(new):
            problems.append(f"stage {old.label}: a variable's ENV/ARG values come in another order")
    if sum(declared.values()):
        problems.append("a declared new instruction is missing")
    return problems


def _fixed_order(stage, added: Counter, edited: dict[int, str] | None = None) -> list[str]:
    """The keys of the instructions that may not move, in order, without the added ones
    (``edited``: the keys of instructions edited in place, by id)."""
    skip = Counter(added)
    keys = []
    for node in stage.instructions:
        if node.name in _MOVABLE:
            continue
        key = (edited.get(id(node)) if edited else None) or _node_key(node)
        if skip[key]:
            skip[key] -= 1
            continue
        keys.append(key)
    return keys


def _keys_after_edits(before: Dockerfile, edits: Sequence[Edit]) -> dict[int, str]:
    """id -> key of each instruction other than RUN that ``edits`` change inside it, read
    again alone with those edits applied. Only edits within the instruction's text before its
    final line break count: one that reaches past it (a RUN deleted or merged) or starts after
    its line break (a new line inserted below it) edits none in place."""
    if not edits:
        return {}
    nodes = [node for node in before.instructions if node.name != "RUN"]
    starts = [node.start for node in nodes]
    inside: dict[int, list[Edit]] = {}
    for edit in edits:
        index = bisect.bisect_right(starts, edit.start) - 1
        if index >= 0 and edit.end <= _text_end(before, nodes[index]):
            inside.setdefault(index, []).append(edit)
    keys: dict[int, str] = {}
    for index, found in inside.items():
        node = nodes[index]
        moved = [Edit(e.start - node.start, e.end - node.start, e.content) for e in found]
        text = apply_edits(before.source[node.start : _text_end(before, node)], moved)
        keys[id(node)] = added_key(text.decode("utf-8", "surrogateescape"), before.escape)
    return keys


def _text_end(dockerfile: Dockerfile, node) -> int:
    """Where the instruction's text ends, before its final line break."""
    text = dockerfile.source[node.start : node.end]
    return node.start + len(text.rstrip(b"\r\n"))


def _variable_sequences(stage) -> dict[tuple[str, str], list[str]]:
    sequences: dict[tuple[str, str], list[str]] = {}
    for node in stage.instructions:
        if node.name in ("ENV", "ARG"):
            for word in node.args.decode("utf-8", "surrogateescape").split():
                name = word.split("=", 1)[0]
                sequences.setdefault((node.name, name), []).append(word)
    return sequences


def semantic_differences(
    before: Dockerfile,
    after: Dockerfile,
    declared: frozenset[str],
    runs_removed: int = 0,
    adds: Sequence[str] = (),
    in_place: Sequence[Edit] = (),
) -> list[str]:
    """Human-readable differences that no applied fix declared. ``in_place``: the edits of
    the fixes that do not declare a reorder (see :func:`reorder_differences`)."""
    problems = []
    if "reorder" in declared:
        problems.extend(reorder_differences(before, after, adds, in_place))
        declared = declared | {"instructions", "config"}  # what reorder_differences checked instead
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
        # a fix that restructures stages may move config between stages, and one that declares
        # a config field (`config:User`) may change it, but the rest of the final image's config
        # must still be the same
        if "stages" in declared or any(name.startswith("config:") for name in declared):
            # a fix of an ONBUILD trigger's text (declared "onbuild") changes OnBuild
            allowed = declared | {"config:OnBuild"} if "onbuild" in declared else declared
            changed = _config_changes(image_config(before), image_config(after), allowed)
            if changed:
                problems.append(f"the final image's config changed ({', '.join(changed)})")
        elif config_summary(before, skip=skip) != config_summary(after, skip=skip):
            problems.append("image config instructions changed (CMD/ENTRYPOINT/USER/WORKDIR/ENV/...)")
    if global_args(before) != global_args(after) and not declared & {"stages", "global-args"}:
        problems.append("global ARGs changed")
    return problems
