"""Does a stage still build and run on a smaller variant of its base image?

A full official image (``python:3.11``, ``node:18``) is buildpack-deps underneath: compilers,
``make``, ``git``, ``curl``, ``ssh``, ``procps`` and dozens of ``-dev`` headers. Its slim
variant has none of them, so a naive swap breaks every build that used one without saying so.
This module lists what a stage *uses* — every stage built FROM it too, ONBUILD triggers, and,
when it ships, the final image's HEALTHCHECK, CMD and ENTRYPOINT — as :class:`Need`\\ s:

* a program run by name (``curl``, ``git``, ``make``; data/base_image_tools.toml [commands]),
  including inside ``sh -c`` strings, scripts copied from the build context, and package.json
  scripts that ``npm run`` runs;
* a build that compiles: pip requirements with no Linux wheel or under ``--no-binary``, node-gyp
  addons, gems with native extensions, ``./configure`` (data/native_builds.toml), each with the
  headers it needs;
* a system library a pure-Python binding loads at run time (``psycopg`` -> libpq5);
* something it cannot follow (a script that is not in the build context): never guessed.

:func:`assess` then weighs them against two variants: a need the full image met and the slim
one does not is *missing*. Missing tools are added to the stage (``curl`` for a HEALTHCHECK);
a missing compiler or header the stage relied on the base image for blocks the swap (the
multi-stage split keeps it in a build stage); a need the stage met itself (it installs ``gcc``)
stays met. Package installs count from where they run, with their dependencies (and their
recommends, unless ``--no-install-recommends``).
"""

from __future__ import annotations

import bisect
import posixpath
import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable, Iterator, NamedTuple

from slimfile.analysis.build_context import BuildContext, ContextTooLarge
from slimfile.analysis.context import Context
from slimfile.analysis.from_images import base_of, descendants, final_chain, in_final_chain
from slimfile.analysis.images import CatalogImage
from slimfile.analysis.lineage_files import ONBUILD_ORDER, RUNTIME_ORDER, LineageFiles, stage_lineage, step_order
from slimfile.analysis.manifests import (
    classify_requirement,
    default_gyp_build,
    normalise_name,
    read_package_json,
    read_requirements,
)
from slimfile.analysis.script_budget import ScriptBudget, too_many_commands
from slimfile.analysis.steps import CommandEnv, Step, expand, names_like, stage_steps
from slimfile.shell.analyze import script_of_text
from slimfile.shell.data import load
from slimfile.shell.model import Command, RunShell, ShellScript
from slimfile.shell.packages import PackageFact, facts_by_command
from slimfile.syntax.nodes import Instruction
from slimfile.syntax.stages import Stage
from slimfile.textformats import json_loads, toml_loads

SHELLS = frozenset({"sh", "bash", "dash", "ash"})
SYSTEM_DIRS = ("/usr/", "/bin/", "/sbin/", "/opt/", "/lib/")
RESOLVER_FILES = frozenset({"/etc/nsswitch.conf", "/etc/resolv.conf", "/etc/gai.conf", "/etc/host.conf"})
PATH_DIRS = ("/usr/local/bin", "/usr/local/sbin", "/usr/bin", "/bin")
MAX_SCRIPT_DEPTH = 3


@dataclass(frozen=True)
class Need:
    """Something the stage uses that a base image may or may not have."""

    kind: str  # "tool", "build", "library", "musl" (matters on Alpine only), "unknown"
    packages: tuple[str, ...]  # Debian packages (or image:<program>) that meet it together
    what: str  # "curl", "psycopg2 from source"
    why: str  # "HEALTHCHECK runs curl", "pip builds psycopg2 from source (requirements.txt line 3)"
    line: int
    stage: int  # the stage (index) it is needed in; the final stage for the running image
    order: int  # position, to know which installs come before it
    command: str | None = None  # the program name, for tool needs
    builder: str | None = None  # the package manager that compiles it from source ("pip"), for build needs


@dataclass(frozen=True)
class Install:
    """Packages a stage installs itself (apt-get install, apk add)."""

    manager: str  # "apt" or "apk"
    packages: tuple[str, ...]
    recommends: bool
    stage: int
    order: int
    line: int
    fact: PackageFact
    instruction: Instruction | None  # None inside a script read from the build context


@dataclass
class Uses:
    """What the family of stages built on one root stage uses."""

    root: Stage
    needs: list[Need] = field(default_factory=list)
    installs: list[Install] = field(default_factory=list)
    parents: dict[int, int | None] = field(default_factory=dict)  # stage -> the family stage it is built FROM
    notes: list[str] = field(default_factory=list)  # assumptions the finding states

    def lineage(self, index: int) -> Iterator[int]:
        """The stage and its bases up to the root, walked from the parent map."""
        return stage_lineage(self.parents, index)


@dataclass(frozen=True)
class Missing:
    need: Need
    packages: tuple[str, ...]  # what the target lacks of it


@dataclass
class Verdict:
    """What a swap from ``source`` to ``target`` would lack."""

    source: CatalogImage
    target: CatalogImage
    missing: list[Missing] = field(default_factory=list)  # the swap adds their packages
    blockers: list[Missing] = field(default_factory=list)  # the swap cannot be made
    add: tuple[str, ...] = ()  # packages to add, in the target's names

    @property
    def ok(self) -> bool:
        return not self.blockers


# -- data -------------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def tools() -> dict:
    return load("base_image_tools")


@lru_cache(maxsize=1)
def native() -> dict:
    return load("native_builds")


@lru_cache(maxsize=1)
def apk_names() -> dict[str, str]:
    return load("apt_to_apk")["packages"]


@lru_cache(maxsize=1)
def _build_only() -> frozenset[str]:
    return frozenset(tools()["build_only"]) | frozenset(load("dev_runtime")["build_only"])


def is_build_package(name: str) -> bool:
    return name in _build_only() or name.endswith(("-dev", "-dev-bin"))


@lru_cache(maxsize=1)
def _image_programs() -> frozenset[str]:
    """Programs some official image has and some variant lacks (javac in a JDK, not a JRE)."""
    out: set[str] = set()
    for spec in load("images")["repositories"].values():
        for variant in spec.get("variants", {}).values():
            out |= set(variant.get("programs", ()))
    return frozenset(out)


def closure(installs: Iterable[Install]) -> frozenset[str]:
    """The packages the installs bring, with their dependencies (and recommends)."""
    out: set[str] = set()
    for install in installs:
        _bring(out, install)
    return frozenset(out)


def _bring(out: set[str], install: Install, without_recommends: AbstractSet[str] = frozenset()) -> list[str]:
    """Add what ``install`` brings to ``out``, the packages earlier installs brought, and say
    which were new. As apt does, a package there already brings nothing new (its recommends
    were decided then). The packages of ``without_recommends`` bring their dependencies only
    (what every order of the installs brings at least, see :class:`_AtLeast`)."""
    return _reach(out, install.packages, install.recommends, without_recommends)


def _reach(out: set[str], names: Iterable[str], recommends: bool, without_recommends: AbstractSet[str] = frozenset()) -> list[str]:
    """:func:`_bring` of the packages ``names``: what is not in ``out`` yet joins it with its
    dependencies (and recommends); the packages that joined, in order."""
    relations = tools()["relations"]
    todo = list(names)
    added: list[str] = []
    while todo:
        name = todo.pop()
        if name in out:
            continue
        out.add(name)
        added.append(name)
        spec = relations.get(name, {})
        todo += spec.get("depends", ())
        if recommends and name not in without_recommends:
            todo += spec.get("recommends", ())
    return added


class _Either:
    """Membership in either of two sets, without their union (a copy per need)."""

    __slots__ = ("first", "second")

    def __init__(self, first: AbstractSet[str], second: AbstractSet[str]) -> None:
        self.first, self.second = first, second

    def __contains__(self, name: object) -> bool:
        return name in self.first or name in self.second


class _InstalledBefore:
    """What the installs of a family of stages bring, grown one install at a time in build
    order as the needs are weighed in that order: recomputing it from every earlier install
    for every need cost n x n (a stage of n installs and n needs)."""

    def __init__(self, installs: list[Install]) -> None:
        self.installs = sorted(installs, key=lambda install: install.order)
        self.taken = 0
        self.apt: set[str] = set()  # the closure of the apt installs taken
        self.as_apk: set[str] = set()  # their names on Alpine, and the apk installs' own

    def up_to(self, order: int) -> None:
        while self.taken < len(self.installs) and self.installs[self.taken].order < order:
            self.take(self.installs[self.taken])
            self.taken += 1

    def take(self, install: Install) -> _Taken:
        """Add what ``install`` brings; what was new, to take it back (apt's, Alpine's, and
        the packages newly taken with their recommends)."""
        apt, widened = self._bring_apt(install) if install.manager == "apt" else ([], [])
        names = install.packages if install.manager == "apk" else [apk_names().get(p, p) for p in install.packages]
        apk = [name for name in dict.fromkeys(names) if name not in self.as_apk]
        self.as_apk.update(apk)
        return apt, apk, widened

    def _bring_apt(self, install: Install) -> tuple[list[str], list[str]]:
        return _bring(self.apt, install), []

    def take_back(self, added: _Taken) -> None:
        self.apt.difference_update(added[0])
        self.as_apk.difference_update(added[1])


class _AtLeast(_InstalledBefore):
    """What the installs taken bring in any order: the packages whose recommends depend on
    the order (:func:`_in_doubt`) are taken without them. It does not depend on the order
    the installs are taken in."""

    def __init__(self, in_doubt: frozenset[str]) -> None:
        super().__init__([])
        self.in_doubt = in_doubt

    def _bring_apt(self, install: Install) -> tuple[list[str], list[str]]:
        return _bring(self.apt, install, self.in_doubt), []


class _AtMost(_InstalledBefore):
    """What the installs taken bring in one order or another: a package reached by an install
    that takes recommends brings its recommends, whether or not another install brought it
    first without them. It does not depend on the order the installs are taken in."""

    def __init__(self) -> None:
        super().__init__([])
        self.with_recommends: set[str] = set()

    def _bring_apt(self, install: Install) -> tuple[list[str], list[str]]:
        relations = tools()["relations"]
        todo = [(name, install.recommends) for name in install.packages]
        added: list[str] = []
        widened: list[str] = []
        while todo:
            name, recommends = todo.pop()
            if name in (self.with_recommends if recommends else self.apt):
                continue
            if name not in self.apt:
                self.apt.add(name)
                added.append(name)
            spec = relations.get(name, {})
            todo += [(dep, recommends) for dep in spec.get("depends", ())]
            if recommends:
                self.with_recommends.add(name)
                widened.append(name)
                todo += [(dep, True) for dep in spec.get("recommends", ())]
        return added, widened

    def take_back(self, added: _Taken) -> None:
        super().take_back(added)
        self.with_recommends.difference_update(added[2])


# -- collecting what a family of stages uses ---------------------------------------------------------------


def uses_of(ctx: Context, root: Stage) -> Uses:
    """Everything the root stage and the stages built on it run (computed once per round)."""
    return ctx.memo(("compat.uses", root.index), lambda: _Collector(ctx, root).collect())


class _Collector:
    def __init__(self, ctx: Context, root: Stage) -> None:
        self.ctx = ctx
        self.root = root
        self.uses = Uses(root)
        self.family = [root, *descendants(ctx, root)]
        self.ships = in_final_chain(ctx, root)
        self.files = LineageFiles(ctx, self.uses.parents)  # where the files a command reads come from
        self._copying: dict[int, bool] = {}  # stage -> it has copies from the build context of its own
        self._nearest: dict[int, int | None] = {}  # stage -> the nearest stage of its lineage with copies
        self._budget = ScriptBudget()  # commands read through scripts (each may run others)
        self._texts: dict[str, RunShell | str] = {}  # script text -> its model: a script run again is parsed once

    def collect(self) -> Uses:
        for stage in self.family:
            self.uses.parents[stage.index] = self._parent(stage)
            for number, step in enumerate(stage_steps(self.ctx, stage)):
                order = step_order(stage.index, number)
                self._instruction(stage, step, order)
        if self.ships:
            self._running_image()
        return self.uses

    def _parent(self, stage: Stage) -> int | None:
        if stage is self.root:
            return None
        base = base_of(self.ctx, stage)
        return base.index if base is not None else None

    # -- instructions -------------------------------------------------------------------------------------

    def _instruction(self, stage: Stage, step: Step, order: int) -> None:
        node = step.instruction
        if node.name == "RUN":
            self._run(stage, step, node, order)
        elif node.name == "ONBUILD" and node.inner is not None and node.inner.name == "RUN":
            self._run(stage, step, node.inner, ONBUILD_ORDER + order, why=f"the ONBUILD trigger at line {node.start_line}")
        elif node.name == "SHELL" and node.json:
            program = posixpath.basename(node.json[0])
            if program == "bash":
                self._tool(stage, "bash", f"SHELL at line {node.start_line} runs bash", node.start_line, order)
        elif node.name == "ADD" and any("://" in w for w in node.args_text.split()):
            self._need("musl", (), "a downloaded file", f"ADD at line {node.start_line} downloads a file (a prebuilt release is usually linked against glibc)", node.start_line, stage, order)

    def _run(self, stage: Stage, step: Step, node: Instruction, order: int, why: str | None = None) -> None:
        script = self.ctx.shell(node)
        where = why or f"line {node.start_line}"
        if not isinstance(script, ShellScript):
            if node.json:
                self._argv(stage, step, list(node.json), where, node.start_line, order, depth=0)
                return
            self._need("unknown", (), "the RUN", f"{where} is not a shell script slimfile reads ({script.opaque})", node.start_line, stage, order)
            return
        self._script(stage, step, script, where, node.start_line, order, depth=0, instruction=node)

    def _script(self, stage: Stage, step: Step, script: ShellScript, where: str, line: int, order: int, depth: int, instruction: Instruction | None = None) -> None:
        if depth == 0:
            self._budget.earn(len(script.commands))
        elif not self._budget.spend(len(script.commands)):
            if not self._budget.refused:  # once: the rest is not read either
                self._budget.refused = True
                self._need("unknown", (), "scripts", too_many_commands(where), line, stage, order)
            return
        facts = facts_by_command(script)
        for index, command in enumerate(script.commands):
            at = order + index
            fact = facts.get(index)
            if fact is not None:
                self._package_fact(stage, step, fact, where, line, at, depth, instruction)
            self._command(stage, step, command, where, line, at, depth)

    # -- one command -------------------------------------------------------------------------------------------

    def _command(self, stage: Stage, step: Step, command: Command, where: str, line: int, order: int, depth: int) -> None:
        touched = [r.target.value for r in command.redirects if r.target is not None] + [w.value for w in command.words]
        resolver = next((p for p in touched if p in RESOLVER_FILES), None)
        if resolver:
            self._need("musl", (), "DNS", f"{where} changes {resolver}: musl resolves names differently from glibc (no nsswitch, its own /etc/resolv.conf handling)", line, stage, order)
        if command.name is None or command.name_index is None:
            return
        words = [w.value for w in command.words[command.name_index :]]
        self._argv(stage, step, words, where, line, order, depth, checked_facts=True)

    def _argv(self, stage: Stage, step: Step, argv: list[str], where: str, line: int, order: int, depth: int, checked_facts: bool = False) -> None:
        if not argv:
            return
        program = argv[0]
        name = posixpath.basename(program)
        if name in SHELLS:
            if name == "bash":
                self._tool(stage, "bash", f"{where} runs bash", line, order)
            self._shell_invocation(stage, step, argv, where, line, order, depth)
            return
        if name in (".", "source") and len(argv) > 1:
            self._script_file(stage, step, argv[1], where, line, order, depth)
            return
        if "/" in program and (not program.startswith(SYSTEM_DIRS) or self._made_by_build(stage, _image_path(program, step) or program, order)):
            self._program_path(stage, step, program, where, line, order, depth)
            return
        if not checked_facts:
            text = " ".join(argv)
            parsed = script_of_text(text)
            if isinstance(parsed, ShellScript):
                for fact in parsed.packages:
                    self._package_fact(stage, step, fact, where, line, order, depth, None)
        self._program(stage, name, argv, where, line, order, step, depth)

    def _program(self, stage: Stage, name: str, argv: list[str], where: str, line: int, order: int, step: Step | None = None, depth: int = MAX_SCRIPT_DEPTH) -> None:
        commands = tools()["commands"]
        compile_sets = tools()["compile"]
        if name in ("gcc", "cc", "c99"):
            self._need("build", tuple(compile_sets["c"]), "a C compiler", f"{where} runs {name}", line, stage, order, command=name)
        elif name in ("g++", "c++"):
            self._need("build", tuple(compile_sets["c++"]), "a C++ compiler", f"{where} runs {name}", line, stage, order, command=name)
        elif name == "make":
            self._need("build", tuple(compile_sets["make"]), "make", f"{where} runs make", line, stage, order, command=name)
        elif name == "node-gyp":
            self._need("build", tuple(compile_sets["node-gyp"]), "node-gyp", f"{where} runs node-gyp (python3, make and a C++ compiler)", line, stage, order, command=name)
        elif name in commands:
            self._tool(stage, name, f"{where} runs {name}", line, order)
            if name in ("curl", "wget") and order < RUNTIME_ORDER and _downloads_binary(argv):
                self._need("musl", (), "a downloaded binary", f"{where} downloads {_url(argv)} (a prebuilt release is usually linked against glibc)", line, stage, order)
        elif name in _image_programs():
            self._need("tool", (f"image:{name}",), name, f"{where} runs {name}", line, stage, order, command=name)
        elif step is not None and depth < MAX_SCRIPT_DEPTH and self._copies_anything(stage):
            # a script the stage copied into a folder on PATH, run by its name
            for folder in PATH_DIRS:
                if self._copied_from(stage, f"{folder}/{name}", order) is not None:
                    self._script_file(stage, step, f"{folder}/{name}", where, line, order, depth)
                    break

    def _tool(self, stage: Stage, name: str, why: str, line: int, order: int) -> None:
        package = tools()["commands"].get(name, name)
        kind = "build" if is_build_package(package) else "tool"
        self._need(kind, (package,), name, why, line, stage, order, command=name)

    def _need(self, kind: str, packages: tuple[str, ...], what: str, why: str, line: int, stage: Stage, order: int, command: str | None = None,
              builder: str | None = None) -> None:
        self.uses.needs.append(Need(kind, packages, what, why, line, stage.index, order, command, builder))

    # -- scripts ---------------------------------------------------------------------------------------------

    def _shell_invocation(self, stage: Stage, step: Step, argv: list[str], where: str, line: int, order: int, depth: int) -> None:
        """``sh -c 'text'`` or ``bash script.sh`` (``sh <<EOF`` is already in the model)."""
        rest = argv[1:]
        while rest and rest[0].startswith("-") and rest[0] != "-c":
            rest = rest[1:]
        if rest and rest[0] == "-c":
            if len(rest) > 1:
                self._text(stage, step, rest[1], f"{where} (sh -c)", line, order, depth)
            return
        if rest:
            self._script_file(stage, step, rest[0], where, line, order, depth)

    def _text(self, stage: Stage, step: Step, text: str, where: str, line: int, order: int, depth: int) -> None:
        if depth < MAX_SCRIPT_DEPTH:
            parsed = self._texts.get(text)
            if parsed is None:
                parsed = self._texts[text] = script_of_text(text)
            self._parsed_text(stage, step, parsed, where, line, order, depth)

    def _parsed_text(self, stage: Stage, step: Step, parsed: RunShell | str, where: str, line: int, order: int, depth: int) -> None:
        if depth >= MAX_SCRIPT_DEPTH:
            return
        if not isinstance(parsed, ShellScript):
            self._need("unknown", (), "a script", f"{where} runs shell text slimfile cannot read ({parsed})", line, stage, order)
            return
        self._script(stage, step, parsed, where, line, order, depth + 1)

    def _program_path(self, stage: Stage, step: Step, program: str, where: str, line: int, order: int, depth: int) -> None:
        name = posixpath.basename(program)
        known = tools().get("scripts", {}).get(name)
        if name == "configure":
            self._need("build", tuple(tools()["compile"]["configure"]), "./configure", f"{where} runs ./configure", line, stage, order, command="configure")
            return
        if known:
            self._need("tool", tuple(f"image:{p}" for p in known), name, f"{where} runs {name}", line, stage, order, command=name)
            return
        self._script_file(stage, step, program, where, line, order, depth)

    def _script_file(self, stage: Stage, step: Step, path: str, where: str, line: int, order: int, depth: int) -> None:
        """A script the stage runs: read it from the build context, through the COPY that
        brought it; a script slimfile cannot read is an unknown."""
        if depth >= MAX_SCRIPT_DEPTH:
            return
        text, problem = self._context_text(stage, step, path, order)
        if text is None:
            self._need("unknown", (), path, f"{where} runs {path}, {problem}", line, stage, order)
            return
        first = text.split("\n", 1)[0]
        if first.startswith("#!"):
            interpreter = _shebang_program(first)
            if interpreter not in SHELLS:
                if interpreter in tools()["commands"]:
                    self._tool(stage, interpreter, f"{where} runs {path} with {interpreter}", line, order)
                return  # a program in another language: the application's own code
            if interpreter == "bash":
                self._tool(stage, "bash", f"{path} (run by {where}) is a bash script", line, order)
        self._text(stage, step, text, f"{path} (run by {where})", line, order, depth)

    def _context_text(self, stage: Stage, step: Step, path: str, order: int) -> tuple[str | None, str]:
        """The text of the file at ``path`` (relative to the step's WORKDIR) as a COPY brought
        it from the build context, or why it cannot be read."""
        files = self.ctx.build_files
        image_path = _image_path(path, step)
        if image_path is None:
            return None, "a path relative to an unknown WORKDIR"
        found = self.files.found_copy(stage.index, image_path, order) if files is not None else None
        if found is not None and files is not None:
            source, copy = found
            text = files.read_text(source)
            if text is not None:
                return text, ""
            return None, f"which the COPY at line {copy.instruction.start_line} brings from {source}, a file {files.why_unread(source)}"
        return None, self._why_unreadable(stage, image_path, order)

    def _copied_from(self, stage: Stage, image_path: str, order: int) -> str | None:
        """The context path of the file at ``image_path``, through the last COPY before
        ``order`` in the stage's lineage that wrote it."""
        if self.ctx.build_files is None:
            return None
        return self.files.copied_from(stage.index, image_path, order)

    def _made_by_build(self, stage: Stage, image_path: str, order: int) -> bool:
        """An earlier step of the lineage wrote exactly this path (a download, a copied script)."""
        return self.files.written_by_build(stage.index, image_path, order) or self._copied_from(stage, image_path, order) is not None

    def _why_unreadable(self, stage: Stage, image_path: str, order: int) -> str:
        if self.ctx.build_files is not None:
            expected = self.files.expected_copy(stage.index, image_path, order)
            if expected is not None:
                source, step = expected
                return f"which the COPY at line {step.instruction.start_line} brings from {source or '.'}, a file missing from the build context"
        writer = self.files.writer(stage.index, image_path, order)
        if writer is not None:
            kind = "made by the RUN" if writer.instruction.name == "RUN" else f"copied by the {writer.instruction.name}"
            return f"a file {kind} at line {writer.instruction.start_line} that slimfile cannot read"
        if self.ctx.build_files is None:
            return "and the build context is not known" + self.ctx.context_unread_why
        return "which is not a file of the build context (a download, or made by the build)"

    def _copies_anything(self, stage: Stage) -> bool:
        """The stage's lineage copies files from the build context (slimfile reads it)."""
        return self.ctx.build_files is not None and self._nearest_copying(stage.index) is not None

    def _copies_own(self, index: int) -> bool:
        """The stage itself has a COPY/ADD from the build context."""
        if index not in self._copying:
            steps = stage_steps(self.ctx, self.ctx.stages.stages[index])
            self._copying[index] = any(s.instruction.name in ("COPY", "ADD") and s.instruction.flag("from") is None for s in steps)
        return self._copying[index]

    def _nearest_copying(self, index: int | None) -> int | None:
        """The first stage of ``index``'s lineage (itself included) with copies of its own."""
        walked = []
        while index is not None and index not in self._nearest:
            if self._copies_own(index):
                self._nearest[index] = index
                break
            walked.append(index)
            index = self.uses.parents.get(index)
        found = self._nearest.get(index) if index is not None else None
        for member in walked:
            self._nearest[member] = found
        return found

    # -- package managers -------------------------------------------------------------------------------------

    def _package_fact(self, stage: Stage, step: Step, fact: PackageFact, where: str, line: int, order: int, depth: int, instruction: Instruction | None) -> None:
        if fact.manager in ("apt", "apk") and fact.action == "install":
            names = tuple(w.value for w in fact.packages if w.static)
            recommends = fact.manager == "apt" and not fact.has("no-install-recommends")
            self.uses.installs.append(Install(fact.manager, names, recommends, stage.index, order, line, fact, instruction))
        elif fact.manager in ("pip", "uv") and fact.action == "install":
            self._pip(stage, step, fact, where, line, order)
        elif fact.manager in ("poetry", "uv") and fact.action in ("install", "sync"):
            self._python_lock(stage, step, fact, where, line, order)
        elif fact.manager in ("npm", "yarn", "pnpm") and fact.action in ("install", "ci"):
            self._node_install(stage, step, fact, where, line, order, depth)
        elif fact.manager in ("npm", "yarn", "pnpm") and fact.action == "run":
            self._node_script(stage, step, fact, where, line, order, depth)
        elif fact.manager in ("gem", "bundler") and fact.action == "install":
            self._gems(stage, step, fact, where, line, order)
        elif fact.manager == "go" and fact.action in ("build", "install"):
            self._go(stage, step, fact, where, line, order)

    def _pip(self, stage: Stage, step: Step, fact: PackageFact, where: str, line: int, order: int) -> None:
        no_binary = {normalise_name(v) if v != ":all:" else v for value in fact.option_values("--no-binary") for v in value.split(",")}
        if "PIP_NO_BINARY" in fact.env:
            no_binary |= set(fact.env["PIP_NO_BINARY"].split(","))
        requirements = []
        for word in fact.packages:
            if not word.static or word.value.startswith("-"):
                continue
            requirements.append((classify_requirement(word.value), f"`pip install {word.value}`"))
        files = fact.option_values("-r", "--requirement")
        if files:
            context = self.ctx.build_files
            if context is None:
                self._need("unknown", (), "requirements", f"{where} installs from {', '.join(files)}, and the build context is not known{self.ctx.context_unread_why}", line, stage, order)
            else:
                paths = []
                for path in files:
                    image_path = _image_path(path, step)
                    source = self._copied_from(stage, image_path, order) if image_path else None
                    if source is None:
                        why = self._why_unreadable(stage, image_path, order) if image_path else "a path relative to an unknown WORKDIR"
                        self._need("unknown", (), path, f"{where} installs from {path}, {why}", line, stage, order)
                        continue
                    paths.append(source)
                found = read_requirements(context, paths)
                no_binary |= found.no_binary
                for problem in found.problems:
                    self._need("unknown", (), "requirements", f"{where}: {problem}", line, stage, order)
                for requirement in found.requirements:
                    requirements.append((requirement, f"{requirement.file} line {requirement.line}"))
        for requirement, source in requirements:
            self._python_requirement(stage, requirement.name, requirement.kind, requirement.text, no_binary, f"{where}, {source}", line, order)
            if requirement.kind == "path":
                self._python_project(stage, step, requirement.text, f"{where}, {source}", line, order)
        for path in fact.option_values("-e", "--editable"):
            if classify_requirement(path).kind == "path":
                self._python_project(stage, step, path, where, line, order)

    def _python_project(self, stage: Stage, step: Step, path: str, where: str, line: int, order: int) -> None:
        """A local project pip (or poetry, uv) builds from its sources (``pip install .``,
        ``-e .``, the root package): native code in it compiles (data/native_builds.toml
        ``[pip.project]``); when its files cannot be read, that is not known."""
        location = "/" + path[len("file:"):].lstrip("/") if path.lower().startswith("file:") else path.split("[")[0].strip()
        folder = _image_path(location or ".", step)
        files = self.ctx.build_files
        if folder is None:
            self._need("unknown", (), f"the project at {path}", f"{where} builds the project at {path}, a path relative to an unknown WORKDIR", line, stage, order)
            return
        # pip needs one of these to build a folder: the copy that brought it says where it is
        markers = [posixpath.join(folder, name) for name in ("pyproject.toml", "setup.py")]
        source = next((found for found in (self._copied_from(stage, marker, order) for marker in markers) if found is not None), None)
        if source is None or files is None:
            why = self._why_unreadable(stage, markers[0], order)
            self._need("unknown", (), f"the project at {path}", f"{where} builds the project at {path}: its pyproject.toml or setup.py, {why}", line, stage, order)
            return
        native_code = native_project(files, posixpath.dirname(source))
        if native_code:
            self._need("build", tuple(tools()["compile"]["c"]), f"the project at {path}",
                       f"{where} builds the project at {path}, which {native_code}", line, stage, order, builder="pip")

    def _python_requirement(self, stage: Stage, name: str | None, kind: str, text: str, no_binary: set[str], where: str, line: int, order: int) -> None:
        data = native()["pip"]
        if kind == "vcs":
            self._tool(stage, "git", f"pip clones `{text.strip()}` with git ({where})", line, order)
            return
        if name is None:
            return
        compile_c = tuple(tools()["compile"]["c"])
        if name in data["source_only"]:
            headers = tuple(data["source_only"][name])
            self._need("build", compile_c + headers, f"{name} from source", f"pip builds {name} from source: it has no Linux wheel ({where})", line, stage, order,
                       builder="pip")
        elif name in data["c_extensions"] and (name in no_binary or ":all:" in no_binary):
            headers = tuple(data["c_extensions"][name])
            self._need("build", compile_c + headers, f"{name} from source", f"pip builds {name} from source (--no-binary, {where})", line, stage, order,
                       builder="pip")
        elif name in data["c_extensions"]:
            self._need("musl", (), name, f"{name} ships manylinux (glibc) wheels ({where}); on Alpine pip may compile it", line, stage, order)
        if name in data["runtime_libraries"]:
            extras = set(re.findall(r"\[([^\]]*)\]", text)[0].replace(" ", "").split(",")) if "[" in text else set()
            if not extras & set(data["binary_extras"].get(name, ())):
                library = data["runtime_libraries"][name]
                self._need("library", (library,), library, f"{name} loads {library} at run time ({where})", line, stage, order)

    def _python_lock(self, stage: Stage, step: Step, fact: PackageFact, where: str, line: int, order: int) -> None:
        """``poetry install`` / ``uv sync``: the lockfile names every package."""
        lock = "poetry.lock" if fact.manager == "poetry" else "uv.lock"
        text, problem = self._context_text(stage, step, lock, order)
        if text is None:
            self._need("unknown", (), lock, f"{where} installs from {lock}, {problem}", line, stage, order)
            return
        for name in re.findall(r'(?m)^name\s*=\s*"([^"]+)"', text):
            self._python_requirement(stage, normalise_name(name), "name", name, set(), f"{where}, {lock}", line, order)
        if not fact.has("no-root") and not fact.has("no-install-project"):
            self._python_project(stage, step, ".", where, line, order)  # the root package is built too

    def _node_install(self, stage: Stage, step: Step, fact: PackageFact, where: str, line: int, order: int, depth: int) -> None:
        data = native()["npm"]
        from_source = (
            any(o.name == "--build-from-source" for o in fact.options)
            or bool(fact.env.named("npm_config_build_from_source"))
            or bool(names_like(step.state.env, "npm_config_build_from_source"))
        )
        names: dict[str, str] = {}
        explicit = [w.value for w in fact.packages if w.static and not w.value.startswith("-")]
        for spec in explicit:
            name = spec if not spec[1:].count("@") else spec[: spec.rindex("@")]
            names[name] = spec
        if not explicit:
            found = self._node_manifests(stage, step, fact, where, line, order, depth)
            if found is None:
                return
            names = found
        for name, spec in sorted(names.items()):
            if _git_spec(spec):
                self._tool(stage, "git", f"{where} installs {name} from git ({spec})", line, order)
            if name in data["compile"] and not from_source and _bundles_prebuilds(name, spec, data):
                self._need("musl", (), name, f"{name} {spec} loads a prebuilt glibc binary; on musl it compiles ({where})", line, stage, order)
            elif name in data["compile"]:
                packages = tuple(tools()["compile"]["node-gyp"]) + tuple(data["compile"][name])
                self._need("build", packages, f"{name} (node-gyp)", f"{fact.tool} builds the native addon {name} with node-gyp ({where})", line, stage, order,
                           builder=fact.tool)
                self._need("musl", (), name, f"{name} is a native addon ({where})", line, stage, order)
            elif name in data["prebuilt"]:
                if from_source:
                    packages = tuple(tools()["compile"]["node-gyp"]) + tuple(data["prebuilt"][name])
                    self._need("build", packages, f"{name} (node-gyp)", f"{fact.tool} builds {name} from source (--build-from-source, {where})", line, stage, order,
                               builder=fact.tool)
                self._need("musl", (), name, f"{name} downloads a prebuilt native binary ({where}); musl builds are not always published", line, stage, order)

    def _node_manifests(self, stage: Stage, step: Step, fact: PackageFact, where: str, line: int, order: int, depth: int) -> dict[str, str] | None:
        """Dependencies of the package.json in the working directory (and its lockfile's
        packages); the root package's install scripts are read as shell."""
        context = self.ctx.build_files
        if context is None:
            self._need("unknown", (), "package.json", f"{where} installs package.json's dependencies, and the build context is not known{self.ctx.context_unread_why}", line, stage, order)
            return None
        image_path = _image_path("package.json", step)
        source = self._copied_from(stage, image_path, order) if image_path else None
        if source is None:
            why = self._why_unreadable(stage, image_path, order) if image_path else "a path relative to an unknown WORKDIR"
            self._need("unknown", (), "package.json", f"{where} installs from package.json, {why}", line, stage, order)
            return None
        package = read_package_json(context, source)
        if isinstance(package, str):
            self._need("unknown", (), "package.json", f"{where}: {package}", line, stage, order)
            return None
        production = fact.has("omit-dev") or fact.has("production")
        names = dict(package.dependencies if production else package.all_dependencies)
        lock = context.read_text(posixpath.join(posixpath.dirname(source), "package-lock.json"))
        if lock:
            names.update(_npm_lock_packages(lock, production))
        for script_name, text in sorted(package.install_scripts.items()):
            self._text(stage, step, text, f"the {script_name} script of {source} ({where})", line, order, depth)
        gyp = default_gyp_build(package, context, source)
        if gyp and not fact.has("ignore-scripts"):
            self._need("build", tuple(tools()["compile"]["node-gyp"]), "the project's addon (node-gyp)",
                       f"{where} builds the project's own native addon with node-gyp ({gyp}, no install script of its own)", line, stage, order)
        return names

    def _node_script(self, stage: Stage, step: Step, fact: PackageFact, where: str, line: int, order: int, depth: int) -> None:
        """``npm run build`` / ``yarn build``: the script's text (and its pre/post scripts)."""
        sub = fact.subcommand[-1].value if fact.subcommand else ""
        if sub in ("exec", "dlx", "x"):
            return
        operands = [w.value for w in fact.operands]
        name = operands[0] if sub in ("run", "run-script") and operands else sub if sub not in ("run", "run-script") else None
        if not name:
            return
        files = self.ctx.build_files
        image_path = _image_path("package.json", step)
        source = self._copied_from(stage, image_path, order) if image_path else None
        package = read_package_json(files, source) if files is not None and source is not None else None
        if package is None or isinstance(package, str):
            return  # the install of the same package.json says what is unknown
        scripts = package.scripts
        for key in (f"pre{name}", name, f"post{name}"):
            if key in scripts:
                parsed = package.read_script(key, script_of_text)
                self._parsed_text(stage, step, parsed, f"the {key} script of package.json ({where})", line, order, depth)

    def _gems(self, stage: Stage, step: Step, fact: PackageFact, where: str, line: int, order: int) -> None:
        data = native()["gem"]
        names: dict[str, bool] = {}  # name -> precompiled
        if fact.manager == "gem":
            names = {w.value: False for w in fact.packages if w.static and not w.value.startswith("-")}
        else:
            text, problem = self._context_text(stage, step, "Gemfile.lock", order)
            if text is None:
                gemfile, problem = self._context_text(stage, step, "Gemfile", order)
                if gemfile is None:
                    self._need("unknown", (), "Gemfile", f"{where} installs the Gemfile's gems, {problem}", line, stage, order)
                    return
                names = {m: False for m in re.findall(r"""(?m)^\s*gem\s+["']([^"']+)["']""", gemfile)}
                if re.search(r"(?m)^\s*(?:git|github)\s*[(:]|\bgit:\s", gemfile):
                    self._tool(stage, "git", f"{where} installs gems from git (Gemfile)", line, order)
            else:
                names = _gemfile_lock(text)
                if re.search(r"(?m)^GIT$", text):
                    self._tool(stage, "git", f"{where} installs gems from git (Gemfile.lock)", line, order)
        precompiled = set(data["precompiled"]["names"])
        for name, platform in sorted(names.items()):
            if name not in data["native"] or (platform and name in precompiled):
                continue
            packages = tuple(tools()["compile"]["configure"]) + tuple(data["native"][name])
            self._need("build", packages, f"the {name} gem", f"{fact.tool} compiles the native extension of {name} ({where})", line, stage, order)

    def _go(self, stage: Stage, step: Step, fact: PackageFact, where: str, line: int, order: int) -> None:
        env = CommandEnv(step.state.env, fact.env)
        if env.get("CGO_ENABLED") == "0":
            return
        context = self.ctx.build_files
        uses_c = env.get("CGO_ENABLED") == "1"
        if not uses_c and context is not None:
            try:
                sources = [p for p in context.listing().files if p.endswith(".go")]
            except Exception:  # noqa: BLE001 - a context too large to list: cgo unknown
                sources = []
            uses_c = any(re.search(r'(?m)^\s*import\s+(?:\(\s*)?"C"', context.read_text(p) or "") for p in sources[:2000])
        if uses_c:
            self._need("musl", (), "cgo", f"{where} builds Go code that uses cgo (golang's Alpine image has no C compiler)", line, stage, order)

    # -- the running image -------------------------------------------------------------------------------------

    def _running_image(self) -> None:
        """HEALTHCHECK, and the ENTRYPOINT/CMD the final image starts with."""
        chain = final_chain(self.ctx)
        final = chain[-1]
        steps = [step for stage in chain for step in stage_steps(self.ctx, stage)]
        last = {name: next((s for s in reversed(steps) if s.instruction.name == name), None) for name in ("HEALTHCHECK", "ENTRYPOINT", "CMD")}
        health = last["HEALTHCHECK"]
        if health is not None and health.instruction.args_text.strip().upper() != "NONE":
            self._healthcheck(final, health)
        for name in ("ENTRYPOINT", "CMD"):
            step = last[name]
            if step is None:
                continue
            node = step.instruction
            where = f"{name} (line {node.start_line})"
            if name == "CMD" and last["ENTRYPOINT"] is not None:
                # arguments of the entrypoint: only a program named in them counts
                words = list(node.json) if node.json is not None else node.args_text.split()
                if words and "/" not in words[0]:
                    self._program(final, posixpath.basename(words[0]), words, where, node.start_line, RUNTIME_ORDER)
                continue
            if node.json is not None:
                self._argv(final, step, list(node.json), where, node.start_line, RUNTIME_ORDER, 0)
            else:
                self._text(final, step, node.args_text, where, node.start_line, RUNTIME_ORDER, 0)

    def _healthcheck(self, final: Stage, step: Step) -> None:
        """``HEALTHCHECK CMD ["curl", ...]`` runs its argv; ``HEALTHCHECK CMD curl ...`` its text
        under /bin/sh (the parser gives the exec form's argv as ``json``)."""
        node = step.instruction
        where = f"HEALTHCHECK (line {node.start_line})"
        if node.json is not None:
            self._argv(final, step, list(node.json), where, node.start_line, RUNTIME_ORDER, 0)
            return
        keyword, _, text = node.args_text.strip().partition(" ")
        if keyword.upper() == "CMD" and text.strip():
            self._text(final, step, text.strip(), where, node.start_line, RUNTIME_ORDER, 0)


# -- helpers ---------------------------------------------------------------------------------------------------------


def native_project(files: BuildContext, folder: str) -> str | None:
    """Why the Python project in the context folder ``folder`` compiles native code when it
    is built: its build backend or build requirements are native-code tools, or it holds C,
    C++, Cython or Rust sources (setuptools' ``ext_modules``, a poetry build script); None
    when neither (data/native_builds.toml ``[pip.project]``)."""
    data = native()["pip"]["project"]
    text = files.read_text(posixpath.join(folder, "pyproject.toml"))
    if text is not None:
        try:
            system = toml_loads(text).get("build-system", {})
        except ValueError:
            system = {}
        backend = system.get("build-backend") if isinstance(system, dict) else None
        if isinstance(backend, str) and backend.split(":")[0] in data["backends"]:
            return f"builds with {backend}"
        requires = system.get("requires", []) if isinstance(system, dict) else []
        for requirement in requires if isinstance(requires, list) else []:
            name = classify_requirement(requirement).name if isinstance(requirement, str) else None
            if name in data["requires"]:
                return f"needs {name} to build (pyproject.toml [build-system])"
    sources = files.derived(("native-sources", " ".join(data["sources"])), lambda: _native_sources(files, tuple(data["sources"])))
    if isinstance(sources, str):
        return f"may hold C sources (the build context could not be listed: {sources})"
    prefix = folder.rstrip("/") + "/" if folder else ""
    index = bisect.bisect_left(sources, prefix)
    if index < len(sources) and sources[index].startswith(prefix):
        return f"holds native sources ({sources[index]})"
    return None


def _native_sources(files: BuildContext, suffixes: tuple[str, ...]) -> list[str] | str:
    """The context's files whose names end in one of ``suffixes``, sorted: made once per
    context, so that each project build asks with one bisection instead of a scan of the
    listing (a file of many `pip install ./x` lines rescanned it per line). A string: why the
    context could not be listed."""
    try:
        listing = files.listing()
    except ContextTooLarge as exc:
        return str(exc)
    return sorted(name for name in listing.files if name.endswith(suffixes))


def _image_path(path: str, step: Step) -> str | None:
    expanded = expand(path, step.state.env) if "$" in path else path
    if expanded is None:
        return None
    if expanded.startswith("/"):
        return posixpath.normpath(expanded)
    if step.state.workdir is None:
        return None
    return posixpath.normpath(posixpath.join(step.state.workdir, expanded))


def _shebang_program(line: str) -> str:
    words = line[2:].strip().split()
    if not words:
        return "sh"
    program = posixpath.basename(words[0])
    if program == "env" and len(words) > 1:
        rest = [w for w in words[1:] if not w.startswith("-")]
        program = posixpath.basename(rest[0]) if rest else "env"
    return re.sub(r"[\d.]+$", "", program) if program.startswith(("python", "ruby", "perl", "node")) else program


def _downloads_binary(argv: list[str]) -> bool:
    """curl/wget saving a file (or piping it on) from a remote URL that does not say musl."""
    url = _url(argv)
    if not url or re.search(r"musl|alpine", url, re.I) or re.match(r"\w+://(localhost|127\.|\[::1\])", url):
        return False
    if url.split("?", 1)[0].endswith((".sh", ".txt", ".json", ".asc", ".sig", ".sha256", ".pem", ".crt", ".key", ".gpg")):
        return False
    if posixpath.basename(argv[0]) == "wget":
        return "--spider" not in argv
    return any(a in ("--output", "--remote-name", "-o", "-O") or (re.fullmatch(r"-[A-Za-z]+", a) and re.search("[oO]", a)) for a in argv[1:])


def _url(argv: list[str]) -> str:
    return next((a for a in argv[1:] if "://" in a), "")


def _git_spec(spec: str) -> bool:
    return spec.startswith(("git+", "git://", "github:", "gitlab:", "bitbucket:", "git@")) or bool(
        re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(#.*)?", spec)
    )


def _bundles_prebuilds(name: str, spec: str, data: dict) -> bool:
    """The version of addon ``name`` that ``spec`` installs holds its glibc binaries (data
    ``[npm.bundled_prebuilds]``): the lowest version the spec allows is at or past the first
    that does. A spec slimfile cannot bound (a tag, a URL, ``||``, ``<``) compiles."""
    first = data.get("bundled_prebuilds", {}).get(name)
    lowest = lowest_version(spec)
    return first is not None and lowest is not None and lowest >= _version_tuple(first)


def lowest_version(spec: str) -> tuple[int, int, int] | None:
    """The lowest version an npm version spec allows, for the plain forms (``3.1.1``,
    ``^3.1.1``, ``~3.0``, ``>=3``, ``3.x``, ``v3.0.0``); None for anything else (a
    prerelease, ``3.0.0-rc.1``, comes before its release)."""
    match = re.fullmatch(r"\s*(?:\^|~|>=|=)?\s*v?(\d+)(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:\+[0-9A-Za-z.-]*)?\s*", spec)
    if match is None:
        return None
    major, minor, patch = (int(part) if part and part.isdigit() else 0 for part in match.groups())
    return (major, minor, patch)


def _version_tuple(text: str) -> tuple[int, int, int]:
    found = lowest_version(text)
    assert found is not None, f"data/native_builds.toml: not a version: {text}"
    return found


def _npm_lock_packages(text: str, production: bool) -> dict[str, str]:
    try:
        lock = json_loads(text)
    except ValueError:
        return {}
    packages = lock.get("packages") if isinstance(lock, dict) else None
    if not isinstance(packages, dict):
        return {}
    out: dict[str, str] = {}
    for key, info in packages.items():
        if not key or not isinstance(info, dict) or (production and info.get("dev")):
            continue
        name = key.rsplit("node_modules/", 1)[-1]
        resolved = info.get("resolved") or info.get("version") or ""
        spec = resolved if isinstance(resolved, str) and resolved.startswith("git") else str(info.get("version", ""))
        if name not in out or _earlier(spec, out[name]):  # a package installed twice: the version that needs more
            out[name] = spec
    return out


def _earlier(spec: str, other: str) -> bool:
    """``spec`` comes before ``other`` (one slimfile cannot bound comes first)."""
    mine, theirs = lowest_version(spec), lowest_version(other)
    return mine is None or (theirs is not None and mine < theirs)


def _gemfile_lock(text: str) -> dict[str, bool]:
    """Gem name -> resolved to a precompiled platform gem, from a Gemfile.lock's specs."""
    out: dict[str, bool] = {}
    for match in re.finditer(r"(?m)^    ([A-Za-z0-9_.-]+) \(([^)]*)\)$", text):
        name, version = match.group(1), match.group(2)
        platform = bool(re.search(r"-(x86_64|aarch64|arm64)-linux", version))
        out[name] = out.get(name, False) or platform
    return out


# -- weighing needs against two variants ---------------------------------------------------------------------


def assess(uses: Uses, source: CatalogImage, target: CatalogImage, *, alpine: bool = False) -> Verdict:
    """What the stage family would lack on ``target`` that it had on ``source``."""
    verdict = Verdict(source, target)
    weighed = _StageWalk(uses, source, target, alpine).weigh()
    installed: dict[frozenset[int], _InstalledBefore] = {}  # by the stages a need sees
    for index in sorted(set(range(len(uses.needs))) - weighed.keys(), key=lambda i: uses.needs[i].order):
        before = _NOTHING if uses.needs[index].kind in _ANYWHERE else _lineage_installs(uses, index, installed)
        weighed[index] = _weigh(uses, uses.needs[index], source, target, alpine, before)
    for index in range(len(uses.needs)):
        found = weighed[index]
        if found is not None:
            kind, missing = found
            (verdict.blockers if kind == "blocker" else verdict.missing).append(missing)
    verdict.add = _additions(verdict, target, uses, alpine)
    limit = tools()["max_added_packages"]
    if len(verdict.add) > limit and verdict.ok:
        first = verdict.missing[0]
        verdict.blockers.append(Missing(
            Need("tool", verdict.add, "tools", f"the stage uses {len(verdict.add)} packages {target.text} lacks ({', '.join(verdict.add)})", first.need.line, first.need.stage, first.need.order),
            verdict.add,
        ))
    return verdict


Weighed = dict[int, "tuple[str, Missing] | None"]
_ANYWHERE = frozenset({"musl", "unknown"})  # needs weighed without the installs before them
_NOTHING = _InstalledBefore([])


class _StageWalk:
    """Weighs each need with what the installs of its stage and of the stages it is built FROM
    brought before it: a walk down the tree of stages that takes each stage's build installs
    in build order on the way down and takes them back on the way up. A set per lineage,
    filled from all of its installs, cost depth x stages on a chain of stages, each with an
    install and a need (4,000 lines: 1.9 s).

    A need after the build steps (the running image's, an ONBUILD trigger's) comes after
    every build install of its lineage, and after the later installs (CMD, ONBUILD) of the
    stages it is built FROM: those are taken for the stage's later events and taken back
    before its children, which see its build installs only. Where a stage with later
    installs has stages built FROM it, those were taken again for each stage below (a chain
    where every stage has an ONBUILD install and an ONBUILD need: 4,000 lines, 2.5 s): one
    set per band of events (build, running image, ONBUILD) holds instead what the needs of
    that band see, and each install is taken once per band it reaches. Taken out of build order, the installs bring what they bring in
    build order as long as no package's recommends depend on the order (:func:`_in_doubt`);
    else a need is weighed against what every order brings at least and at most, and only a
    need that those tell apart is weighed with what the installs that can decide its packages
    bring in build order (kept on the way down as well)."""

    def __init__(self, uses: Uses, source: CatalogImage, target: CatalogImage, alpine: bool) -> None:
        self.uses, self.source, self.target, self.alpine = uses, source, target, alpine
        # stage -> (order, 0 for a need or 1 for an install, index), per band: a need sees
        # only the installs before its own step
        self.build: dict[int, list[_Event]] = {}
        self.later: dict[int, list[_Event]] = {}
        for index, need in enumerate(uses.needs):
            self._add(need.stage, _Event(need.order, 0, index))
        for index, install in enumerate(uses.installs):
            self._add(install.stage, _Event(install.order, 1, index))

    def _add(self, stage: int, event: _Event) -> None:
        (self.build if event.order < RUNTIME_ORDER else self.later).setdefault(stage, []).append(event)

    def weigh(self) -> Weighed:
        if not self._later_installs_above():
            return self._weigh_in_order()
        return self._weigh_by_bands(_in_doubt(self.uses.installs))

    def _weigh_in_order(self) -> Weighed:
        """The walk when no stage above another has later installs: each stage's later events
        follow its build installs and are taken back before its children."""
        weighed: Weighed = {}
        installed = _InstalledBefore([])
        taken: dict[int, list[_Taken]] = {}
        for stage, entering in self._visits():
            if not entering:
                self._take_back(installed, taken.pop(stage))
                continue
            taken[stage] = self._events(sorted(self.build.get(stage, [])), installed, weighed)
            if stage in self.later:
                self._take_back(installed, self._events(sorted(self.later[stage]), installed, weighed))
        return weighed

    def _weigh_by_bands(self, in_doubt: frozenset[str]) -> Weighed:
        """The walk by bands: a need of band k sees the set of band k, which holds the build
        installs of the stages on the way down and the installs of bands 1..k of the stages
        above (a stage's own, up to the need). Only the running image has band 1 (CMD,
        HEALTHCHECK), so no two stages of a lineage share an order there. The build band is
        taken in build order; with packages ``in_doubt``, each later band is two sets, what
        every order brings at least and at most, and a need whose packages those tell apart
        is weighed with what the installs bring of them in build order (:class:`_FirstMet`)."""
        needs = {_band(event.order) for events in self.later.values() for event in events if event.kind == 0}
        build = _InstalledBefore([])
        most: list[_InstalledBefore] = [build]  # per band: the set of a band without needs is never asked
        least: list[_InstalledBefore] = [build]
        for band in (1, 2):
            most.append(_AtMost() if in_doubt else _InstalledBefore([]))
            least.append(_AtLeast(in_doubt) if in_doubt else most[band])
        asked = sorted({0, *needs})  # an install of band b goes to the sets of the asked bands from b on
        takers: list[list[_InstalledBefore | _FirstMet]] = [
            list(dict.fromkeys(s for k in asked if k >= band for s in (most[k], least[k]))) for band in range(3)
        ]
        first_met = [_FirstMet(_reaching(_decided_by_order(in_doubt))) for _ in range(3)] if in_doubt else []
        for band, met in enumerate(first_met):
            takers[band].append(met)
        weighed: Weighed = {}
        taken: dict[int, list[tuple[_InstalledBefore | _FirstMet, _Taken]]] = {}
        for stage, entering in self._visits():
            if not entering:
                for installed, added in reversed(taken.pop(stage)):
                    installed.take_back(added)
                continue
            taken[stage] = mine = []
            for event in sorted([*self.build.get(stage, ()), *self.later.get(stage, ())]):
                band = _band(event.order)
                if event.kind == 1:
                    install = self.uses.installs[event.item]
                    mine += [(installed, installed.take(install)) for installed in takers[band]]
                    continue
                need = self.uses.needs[event.item]
                before: _InstalledBefore | _Seen = most[band]
                if _told_apart(need, most[band], least[band]):
                    before = _in_build_order(need, most[band], least[band], first_met[: band + 1])
                weighed[event.item] = self._weigh_need(event.item, before)
        return weighed

    def _weigh_need(self, index: int, before: _InstalledBefore | _Seen) -> tuple[str, Missing] | None:
        return _weigh(self.uses, self.uses.needs[index], self.source, self.target, self.alpine, before)

    def _visits(self) -> Iterator[tuple[int, bool]]:
        """Each stage of the family entered (True), then its children's visits, then the stage
        left (False): depth first, siblings in stage order."""
        children: dict[int | None, list[int]] = {}
        for stage in self._stages():
            children.setdefault(self.uses.parents.get(stage), []).append(stage)
        pending: list[tuple[int, bool]] = [(stage, True) for stage in sorted(children.get(None, []), reverse=True)]
        while pending:
            stage, entering = pending.pop()
            yield stage, entering
            if entering:
                pending.append((stage, False))
                pending += [(child, True) for child in sorted(children.get(stage, []), reverse=True)]

    def _stages(self) -> set[int]:
        """Every stage of the family, its parents and the stages with needs or installs."""
        parents = {parent for parent in self.uses.parents.values() if parent is not None}
        return {*self.uses.parents, *parents, *self.build, *self.later}

    def _later_installs_above(self) -> bool:
        """Whether a stage with later installs has stages built FROM it: only then would a
        stage's later needs see later installs of other stages (the usual file, with a CMD in
        its last stage, pays for no bands)."""
        parents = set(self.uses.parents.values())
        return any(event.kind == 1 for stage in parents if stage is not None for event in self.later.get(stage, ()))

    def _events(self, events: list[_Event], installed: _InstalledBefore, weighed: Weighed) -> list[_Taken]:
        """Take the installs and weigh the needs, in order; what each install added."""
        taken = []
        for event in events:
            if event.kind == 1:
                taken.append(installed.take(self.uses.installs[event.item]))
            else:
                weighed[event.item] = _weigh(self.uses, self.uses.needs[event.item], self.source, self.target, self.alpine, installed)
        return taken

    @staticmethod
    def _take_back(installed: _InstalledBefore, taken: list[_Taken]) -> None:
        for added in reversed(taken):
            installed.take_back(added)


def _band(order: int) -> int:
    """0 for a build step, 1 for the running image, 2 for an ONBUILD trigger."""
    return 0 if order < RUNTIME_ORDER else 1 if order < ONBUILD_ORDER else 2


def _in_doubt(installs: list[Install]) -> frozenset[str]:
    """The packages whose recommends the order of the apt installs decides. A package already
    there brings nothing new (:func:`_bring`), so its recommends come only when the first
    install to reach it takes recommends: that matters for a package with recommends that
    installs with and without recommends both reach."""
    reached: dict[bool, set[str]] = {True: set(), False: set()}
    for install in installs:
        if install.manager == "apt":
            _bring(reached[install.recommends], install)
    relations = tools()["relations"]
    return frozenset(name for name in reached[True] & reached[False] if relations.get(name, {}).get("recommends"))


def _told_apart(need: Need, most: _InstalledBefore, least: _InstalledBefore) -> bool:
    """Whether a package of the need is among what the installs bring in some order and not
    in every order (:func:`_weigh` asks only about the need's packages)."""
    return most is not least and any((p in most.apt) != (p in least.apt) for p in need.packages)


@lru_cache(maxsize=64)
def _decided_by_order(in_doubt: frozenset[str]) -> frozenset[str]:
    """The packages whose presence the order of the installs may decide: those in doubt and
    what their recommends bring."""
    relations = tools()["relations"]
    found: set[str] = set(in_doubt)
    _reach(found, [dep for name in in_doubt for dep in relations.get(name, {}).get("recommends", ())], True)
    return frozenset(found)


@lru_cache(maxsize=64)
def _reaching(targets: frozenset[str]) -> frozenset[str]:
    """The packages from which a package of ``targets`` can be reached by depends and
    recommends, ``targets`` included: only an install of one of them can bring or keep out a
    package of ``targets`` (the packages an install meets are all reached from its own)."""
    reverse: dict[str, list[str]] = {}
    for name, spec in tools()["relations"].items():
        for dep in (*spec.get("depends", ()), *spec.get("recommends", ())):
            reverse.setdefault(dep, []).append(name)
    found = set(targets)
    todo = list(targets)
    while todo:
        for parent in reverse.get(todo.pop(), ()):
            if parent not in found:
                found.add(parent)
                todo.append(parent)
    return frozenset(found)


class _FirstMet:
    """The apt installs of one band met on the way down that can bring a package whose
    presence the order decides, each by those packages of its own (the key), at the first
    install with that key: a later install with the same key brings none of them, since apt
    takes a package that is there already as it is. A need the bounds tell apart sees these,
    band by band, in build order (:func:`_in_build_order`): a few installs, where taking its
    lineage's installs again for each such need cost the lineage's length per need (a chain
    of n stages whose triggers each run ``ssh -V`` under git installed with and without its
    recommends: n x n)."""

    def __init__(self, relevant: frozenset[str]) -> None:
        self.relevant = relevant
        self.first: dict[frozenset[str], tuple[int, Install]] = {}  # key -> (installs met with it, the first)

    def take(self, install: Install) -> _Taken:
        key = frozenset(p for p in install.packages if p in self.relevant) if install.manager == "apt" else frozenset()
        if key:
            count, first = self.first.get(key, (0, install))
            self.first[key] = (count + 1, first)
        return sorted(key), [], []

    def take_back(self, added: _Taken) -> None:
        if not added[0]:
            return
        key = frozenset(added[0])
        count, first = self.first[key]
        if count == 1:
            del self.first[key]
        else:
            self.first[key] = (count - 1, first)


class _Seen(NamedTuple):
    """What a need sees of the installs before it, as :func:`_weigh` reads it."""

    apt: AbstractSet[str]
    as_apk: AbstractSet[str]


def _in_build_order(need: Need, most: _InstalledBefore, least: _InstalledBefore, bands: list[_FirstMet]) -> _Seen:
    """What ``need`` sees: the packages the bounds tell apart as the installs met bring them in
    build order (a band's after the bands before it; an install whose key an earlier one had
    brings nothing of it), the others as both bounds have them. Only the need's packages are
    asked (:func:`_weigh`), so only they are in the set."""
    brought: set[str] = set()
    keys: set[frozenset[str]] = set()
    for band in bands:
        for key, (_count, install) in band.first.items():
            if key not in keys:
                keys.add(key)
                _bring(brought, install)
    told = {p for p in need.packages if (p in most.apt) != (p in least.apt)}
    return _Seen({p for p in need.packages if p in (brought if p in told else most.apt)}, most.as_apk)


class _Event(NamedTuple):
    order: int
    kind: int  # 0: a need, 1: an install (a need sees no install of its own step)
    item: int  # its index in Uses.needs or Uses.installs


_Taken = tuple[list[str], list[str], list[str]]  # what one install added: apt's, Alpine's names, and packages taken with their recommends


def _lineage_installs(uses: Uses, index: int, installed: dict[frozenset[int], _InstalledBefore]) -> _InstalledBefore:
    """The installs of the need's stage and of the stages it is built FROM, taken up to the
    need (needs come in build order)."""
    need = uses.needs[index]
    lineage = frozenset(uses.lineage(need.stage))
    before = installed.get(lineage)
    if before is None:
        before = installed[lineage] = _InstalledBefore([i for i in uses.installs if i.stage in lineage])
    before.up_to(need.order)
    return before


def _weigh(
    uses: Uses, need: Need, source: CatalogImage, target: CatalogImage, alpine: bool, before: _InstalledBefore | _Seen
) -> tuple[str, Missing] | None:
    """Whether ``need`` blocks the swap, is met by adding packages, or is met (None), with
    ``before`` holding what the installs before it brought."""
    if need.kind == "musl":
        return ("blocker", Missing(need, ())) if alpine else None
    if need.kind == "unknown":
        return "blocker", Missing(need, ())
    own = before.apt
    if not all(p in source.packages or p in own for p in need.packages):
        return None  # the full image did not meet it either: not the swap's doing
    target_has = _Either(target.packages, before.as_apk if alpine else own)
    lacking = tuple(p for p in need.packages if not _has(p, need, target_has, alpine))
    if not lacking:
        return None
    missing = Missing(need, lacking)
    if any(p.startswith("image:") for p in lacking):
        return "blocker", missing
    if any(is_build_package(p) for p in lacking) and not set(need.packages) & own:
        return "blocker", missing  # the stage relied on the base image's compiler
    return "missing", missing


def _has(package: str, need: Need, target: AbstractSet[str] | _Either, alpine: bool) -> bool:
    if package in target:
        return True
    if not alpine or package.startswith("image:"):
        return False
    if need.command and need.command in tools()["alpine"]["busybox"]:
        return True
    mapped = apk_names().get(package)
    return mapped == "" or (mapped is not None and mapped in target)


def _additions(verdict: Verdict, target: CatalogImage, uses: Uses, alpine: bool) -> tuple[str, ...]:
    names: list[str] = []
    for missing in verdict.missing:
        names.extend(missing.packages)
    https = set(tools()["https_tools"])
    if any(n in https for n in names) and not _has("ca-certificates", Need("tool", (), "", "", 0, 0, 0), target.packages | closure(uses.installs), alpine):
        names.append("ca-certificates")
    if alpine:
        names = [apk_names().get(n, n) for n in names]
        names = [n for n in names if n]
    return tuple(sorted(set(names)))


def unmapped_for_alpine(names: Iterable[str]) -> list[str]:
    """Debian packages the apt -> apk map does not know (an Alpine swap cannot install them)."""
    table = apk_names()
    return sorted({n for n in names if n not in table})
