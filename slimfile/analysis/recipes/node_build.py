"""What a Node build writes: the output of each program the build runs.

Known build tools write to a default folder that an option or a config file can move
(``data/recipes.toml`` [node.tools]); tsc writes to tsconfig.json's ``outDir``, read as
TypeScript reads it (comments, trailing commas, ``extends`` of local files). A config file
that slimfile does not evaluate (vite.config.ts, webpack.config.js) is only trusted when it
does not mention the setting that moves the output, or sets it to a plain string. Programs
the shell model knows (cp, mkdir, rm) write what it says; anything else makes the output
unknown, and the recipe refuses with the program's name.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from slimfile.analysis.manifests import parse_jsonc
from slimfile.analysis.recipes.files import recipe_data
from slimfile.analysis.recipes.node_commands import RUNNERS, Invocation, Project, commands_data
from slimfile.shell.effects import overlaps, system_paths

MAX_EXTENDS = 10


@dataclass
class BuildOutputs:
    outputs: list[str] = field(default_factory=list)  # image paths the release copies
    runtime: list[str] = field(default_factory=list)  # project files the output needs at run time
    caches: list[str] = field(default_factory=list)  # inside the outputs, only for the build
    removed: list[str] = field(default_factory=list)  # image paths a cleaner deletes
    tools: list[str] = field(default_factory=list)  # the programs that built something

    def add(self, other: BuildOutputs) -> None:
        for name in ("outputs", "runtime", "caches", "removed", "tools"):
            mine = getattr(self, name)
            mine.extend(p for p in getattr(other, name) if p not in mine)


def is_package_manager_call(inv: Invocation) -> bool:
    """npm/yarn/pnpm doing their own work (an install, a prune, a config): no build output."""
    return posixpath.basename(inv.program) in RUNNERS


def is_node_tool(inv: Invocation) -> bool:
    """A program of the Node toolchain: a RUN running one is part of the build."""
    name = posixpath.basename(inv.program)
    data = recipe_data("node")
    return (
        inv.runner is not None
        or name in RUNNERS
        or name in data["tools"]
        or name in data["dev_servers"]
        or name in commands_data()["cleaners"]
        or "node_modules/.bin/" in inv.program
    )


def build_outputs(project: Project, invocations: list[Invocation]) -> BuildOutputs | str:
    total = BuildOutputs()
    for inv in invocations:
        if is_package_manager_call(inv):
            continue
        found = outputs_of(project, inv)
        if isinstance(found, str):
            return found
        total.add(found)
    return total


def outputs_of(project: Project, inv: Invocation) -> BuildOutputs | str:
    name = posixpath.basename(inv.program)
    data = recipe_data("node")
    if inv.dynamic:
        return f"{inv.where}: `{inv.text}` has words slimfile cannot expand"
    if name in commands_data()["checks"]:
        return BuildOutputs()
    if name in commands_data()["cleaners"]:
        return BuildOutputs(removed=[project.path(a, inv.cwd) for a in inv.args if not a.startswith("-")])
    if name == "cross-env":
        return BuildOutputs()  # what it runs is its own invocation
    if name == "tsc":
        return _tsc(project, inv)
    if name in data["tools"]:
        return _tool(project, inv, name, data["tools"][name])
    if name in ("node", "nodejs"):
        return f"{inv.where}: `{inv.text}` runs a script of its own, whose output slimfile does not know"
    if inv.effects is not None and not inv.effects.unknown:  # cp, mkdir, rm: the shell model knows
        writes = [p for p in inv.effects.writes if not _system_or_scratch(p)]
        return BuildOutputs(outputs=sorted(writes))
    return f"{inv.where}: `{inv.text}` writes somewhere slimfile does not know (data/recipes.toml [node.tools])"


def _system_or_scratch(path: str) -> bool:
    return bool(overlaps({path}, system_paths())) or path.startswith(("/tmp", "/root/.cache", "/root/.npm", "/var/cache"))


# -- options ------------------------------------------------------------------------------------


def option_value(args: tuple[str, ...], *names: str) -> str | None:
    """The value of the last of ``names`` (``--opt value`` or ``--opt=value``)."""
    found = None
    for i, arg in enumerate(args):
        for name in names:
            if arg == name and i + 1 < len(args):
                found = args[i + 1]
            elif name.startswith("--") and arg.startswith(name + "="):
                found = arg[len(name) + 1 :]
    return found


def operands(args: tuple[str, ...], with_value: set[str]) -> list[str]:
    out, i = [], 0
    while i < len(args):
        arg = args[i]
        if arg.startswith("-"):
            i += 2 if arg in with_value else 1
            continue
        out.append(arg)
        i += 1
    return out


# -- tools with a default output ----------------------------------------------------------------


def _tool(project: Project, inv: Invocation, name: str, spec: dict) -> BuildOutputs | str:
    out_options = spec.get("out_options", [])
    args = inv.args
    words = operands(args, set(out_options))
    subcommand = words[0] if words else ""
    allowed = spec.get("subcommands")
    if allowed is not None and subcommand not in allowed:
        return f"{inv.where}: `{inv.text}` is not a build ({name} builds with `{' '.join((name, allowed[0])).strip()}`)"
    if allowed and len(words) > 1:
        return f"{inv.where}: `{inv.text}` builds another folder than the project"
    for variable in spec.get("env_moves", []):
        if variable in inv.env or _dotenv_mentions(project, inv.cwd, variable):
            return f"{inv.where}: {variable} moves the output of {name}, and slimfile does not read it"
    configured, refusal = _configured_output(project, inv, name, spec)
    if refusal is not None:
        return refusal
    if spec.get("tsconfig"):
        config = option_value(args, "-p", "--path") or _first_present(project, inv.cwd, [spec["tsconfig"], "tsconfig.json"])
        found = _tsconfig_outputs(project, project.path(config, inv.cwd), inv.where)
        if isinstance(found, str):
            return found
        return BuildOutputs(outputs=found, tools=[name])
    output = option_value(args, *out_options) or configured or spec.get("output")
    if output is None:
        return BuildOutputs(tools=[name])  # writes to standard output (babel, esbuild without a target)
    target = project.path(output, inv.cwd)
    runtime = [project.path(p, inv.cwd) for p in spec.get("runtime", []) if project.paths.exists(project.path(p, inv.cwd))]
    caches = [project.path(p, inv.cwd) for p in spec.get("caches", [])]
    return BuildOutputs(outputs=[target], runtime=runtime, caches=caches, tools=[name])


def _first_present(project: Project, cwd: str, names: list[str]) -> str:
    for name in names:
        if project.paths.exists(project.path(name, cwd)):
            return name
    return names[-1]


def _configured_output(project: Project, inv: Invocation, name: str, spec: dict) -> tuple[str | None, str | None]:
    """(the output a config file sets as a plain string, why the config makes it unknown)."""
    for config in spec.get("configs", []):
        text = project.paths.read_text(project.path(config, inv.cwd))
        if text is None:
            continue
        for key in spec.get("mentions", []):
            if not re.search(rf"\b{re.escape(key)}\b", text):
                continue
            literal = _literal_setting(text, key) if key in spec.get("readable", ()) else None
            if literal is None:
                return None, f"{inv.where}: {config} sets `{key}`, which moves the output of {name} (slimfile does not evaluate {config})"
            return literal, None
    return None, None


def _literal_setting(text: str, key: str) -> str | None:
    """``outDir: "build"`` written once as a plain string literal, else None."""
    found = re.findall(rf"""\b{re.escape(key)}\s*:\s*(["'])([^"'`$]+)\1""", text)
    mentions = len(re.findall(rf"\b{re.escape(key)}\b", text))
    return found[0][1] if len(found) == 1 and mentions == 1 else None


def _dotenv_mentions(project: Project, cwd: str, variable: str) -> bool:
    for name in (".env", ".env.production", ".env.local", ".env.production.local"):
        text = project.paths.read_text(project.path(name, cwd))
        if text and re.search(rf"^\s*(export\s+)?{re.escape(variable)}\s*=", text, re.MULTILINE):
            return True
    return False


# -- tsc ----------------------------------------------------------------------------------------

_TSC_WITH_VALUE = {"-p", "--project", "--outDir", "--outFile", "--out", "--target", "-t", "--module", "-m", "--lib", "--rootDir", "--declarationDir", "--jsx", "--moduleResolution"}


def _tsc(project: Project, inv: Invocation) -> BuildOutputs | str:
    args = inv.args
    if any(a in ("-b", "--build") for a in args):
        return f"{inv.where}: `tsc --build` follows project references, which slimfile does not read"
    if any(a in ("-w", "--watch") for a in args):
        return f"{inv.where}: `tsc --watch` never finishes a build"
    if "--noEmit" in args or "--noEmit=true" in args:
        return BuildOutputs(tools=["tsc"])
    out = option_value(args, "--outDir") or option_value(args, "--outFile", "--out")
    if out is not None:
        return BuildOutputs(outputs=[project.path(out, inv.cwd)], tools=["tsc"])
    if operands(args, _TSC_WITH_VALUE):
        return f"{inv.where}: `{inv.text}` compiles files next to their sources (no --outDir)"
    config = option_value(args, "-p", "--project") or "tsconfig.json"
    path = project.path(config, inv.cwd)
    if not config.endswith(".json"):
        path = posixpath.join(path, "tsconfig.json")
    found = _tsconfig_outputs(project, path, inv.where)
    return found if isinstance(found, str) else BuildOutputs(outputs=found, tools=["tsc"])


def _tsconfig_outputs(project: Project, path: str, where: str) -> list[str] | str:
    """[outDir] (absolute), [] when nothing is emitted, or why it is unknown."""
    options = _compiler_options(project, path, 0)
    if isinstance(options, str):
        return f"{where}: {options}"
    values, unread = options
    if values.get("noEmit") is True or values.get("emitDeclarationOnly") is True:
        return []
    for key in ("outDir", "outFile", "out"):
        if isinstance(values.get(key), str):
            return [values[key]]
    if unread:
        return f"{where}: {_rel(project, path)} extends `{unread}` (not in the build context), so its outDir is not known"
    return f"{where}: {_rel(project, path)} sets no outDir: tsc writes the .js files next to the sources"


def _compiler_options(project: Project, path: str, depth: int) -> tuple[dict, str | None] | str:
    """compilerOptions with ``extends`` applied (paths made absolute where the file that sets
    them is), and the first base that could not be read (a package)."""
    if depth > MAX_EXTENDS:
        return f"{_rel(project, path)}: `extends` goes deeper than {MAX_EXTENDS} files"
    text = project.paths.read_text(path)
    if text is None:
        return f"{_rel(project, path)} is not in the build context"
    try:
        data = parse_jsonc(text)
    except ValueError as exc:
        return f"{_rel(project, path)} is not valid JSON ({exc})"
    if not isinstance(data, dict):
        return f"{_rel(project, path)} is not a JSON object"
    merged: dict = {}
    unread: str | None = None
    bases = data.get("extends")
    for base in [bases] if isinstance(bases, str) else bases if isinstance(bases, list) else []:
        if not isinstance(base, str):
            continue
        if not base.startswith("."):
            unread = unread or base
            continue
        base_path = posixpath.normpath(posixpath.join(posixpath.dirname(path), base))
        if not base_path.endswith(".json") and not project.paths.exists(base_path):
            base_path += ".json"
        found = _compiler_options(project, base_path, depth + 1)
        if isinstance(found, str):
            return found
        merged.update(found[0])
        unread = unread or found[1]
    own = data.get("compilerOptions")
    if isinstance(own, dict):
        for key, value in own.items():
            if key in ("outDir", "outFile", "out") and isinstance(value, str):
                value = posixpath.normpath(posixpath.join(posixpath.dirname(path), value))
            merged[key] = value
    return merged, unread


def _rel(project: Project, path: str) -> str:
    return posixpath.relpath(path, project.root) if path.startswith(project.root) else path
