"""Dependency manifests read from the build context: what an install reads, and what it pulls.

Passes ask two kinds of question: *which files does this install read* (to copy exactly those
before the rest of the sources, issue 9) and *what does it install* (a package that compiles
needs a compiler, issue 10). Both are answered from the files themselves, never guessed from
names: pip requirements with their nested ``-r``/``-c`` includes, ``package.json`` with its
lifecycle scripts and workspaces, the lockfiles beside them, and the other ecosystems' files.

Every reader returns what it found plus ``problems``: the facts it could not establish (an
include that is missing, a manifest that does not parse). A pass that needs a missing fact
refuses and quotes the problem.
"""

from __future__ import annotations

import json
import posixpath
import re
import shlex
import sys
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, TypeVar

from slimfile.analysis.build_context import BuildContext
from slimfile.analysis.globs import clean_path
from slimfile.textformats import json_loads, toml_loads

T = TypeVar("T")

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# ---------------------------------------------------------------------------------------------
# pip requirements files


@dataclass(frozen=True)
class Requirement:
    """One requirement line. ``kind`` is ``name`` (from an index), ``url`` (``name @ https://``
    or a bare archive URL), ``vcs`` (``git+...``) or ``path`` (a local file or directory)."""

    text: str
    name: str | None  # normalised (PEP 503), when the line names a project
    kind: str
    file: str  # the requirements file it is in (context-relative)
    line: int
    editable: bool = False


@dataclass
class RequirementSet:
    """What ``pip install -r A -r B ...`` reads and asks for."""

    files: list[str] = field(default_factory=list)  # every file read, includes and constraints too
    requirements: list[Requirement] = field(default_factory=list)
    constraints: list[Requirement] = field(default_factory=list)
    no_binary: set[str] = field(default_factory=set)  # normalised names, or ":all:"
    only_binary: set[str] = field(default_factory=set)
    find_links: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def local(self) -> list[Requirement]:
        """Requirements that read a path of the context (``-e .``, ``./libs/x``, ``file:``)."""
        return [r for r in self.requirements + self.constraints if r.kind == "path"]

    @property
    def names(self) -> list[str]:
        return [r.name for r in self.requirements if r.name]


_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_VCS_PREFIXES = ("git+", "hg+", "svn+", "bzr+")
_ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar")
_OPTIONS_WITH_VALUE = {
    "-r",
    "--requirement",
    "-c",
    "--constraint",
    "-e",
    "--editable",
    "-i",
    "--index-url",
    "--extra-index-url",
    "-f",
    "--find-links",
    "--no-binary",
    "--only-binary",
    "--trusted-host",
    "--use-feature",
    "--hash",
    "--config-settings",
    "--global-option",
    "--install-option",
}


def normalise_name(name: str) -> str:
    """PEP 503: ``Foo_Bar.baz`` -> ``foo-bar-baz``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _sent_but_unread(context: BuildContext, path: str) -> str | None:
    """For a file the build sends that ``read_text`` did not read (over its limit, not
    readable), why: such a file is not "not in the build context"."""
    return f"is a file {context.why_unread(path)}" if context.is_file(path) else None


def read_requirements(context: BuildContext, paths: list[str]) -> RequirementSet:
    """Read requirement files (context-relative), following ``-r``/``-c`` includes: once per
    context and list of files (the cache order, the base image and the lockfile passes each
    read the same 100,000-line file again, each fix round). Callers do not change the result."""
    cleaned = [clean_path(path) for path in paths]
    return context.derived(("requirements", "\0".join(cleaned)), lambda: _read_requirement_files(context, cleaned))


def _read_requirement_files(context: BuildContext, paths: list[str]) -> RequirementSet:
    result = RequirementSet()
    for path in paths:
        _read_requirements_file(context, path, result, constraint=False, depth=0)
    return result


def _read_requirements_file(
    context: BuildContext, path: str, result: RequirementSet, *, constraint: bool, depth: int
) -> None:
    if path in result.files:
        return
    if depth > 20:
        result.problems.append(f"{path}: includes nested more than 20 deep")
        return
    text = context.read_text(path)
    if text is None:
        reason = (
            "excluded by .dockerignore"
            if context.ignored(path) and context.on_disk(path)
            else _sent_but_unread(context, path) or "not in the build context"
        )
        result.problems.append(f"requirements file {path} {reason}")
        return
    result.files.append(path)
    for number, line in _logical_requirement_lines(text):
        _read_requirement_line(context, path, number, line, result, constraint=constraint, depth=depth)


def _logical_requirement_lines(text: str) -> list[tuple[int, str]]:
    """(line number, text) with ``\\`` continuations joined and comments removed, as pip does."""
    out: list[tuple[int, str]] = []
    pending = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        if not pending:
            start = number
        line = re.sub(r"(^|\s+)#.*$", "", raw)
        if line.endswith("\\"):
            pending += line[:-1]
            continue
        line = (pending + line).strip()
        pending = ""
        if line:
            out.append((start, line))
    if pending.strip():
        out.append((start, pending.strip()))
    return out


def _read_requirement_line(
    context: BuildContext, path: str, number: int, line: str, result: RequirementSet, *, constraint: bool, depth: int
) -> None:
    if not line.startswith("-"):
        requirement = classify_requirement(line, path, number)
        (result.constraints if constraint else result.requirements).append(requirement)
        return
    try:
        words = shlex.split(line)
    except ValueError:
        result.problems.append(f"{path}:{number}: cannot read the line `{line}`")
        return
    i = 0
    while i < len(words):
        option, value, used = _option_at(words, i)
        i += used
        _apply_option(context, path, number, option, value, result, constraint=constraint, depth=depth)


def _apply_option(
    context: BuildContext,
    path: str,
    number: int,
    option: str,
    value: str | None,
    result: RequirementSet,
    *,
    constraint: bool,
    depth: int,
) -> None:
    if value is None:
        return
    if option in ("-r", "--requirement", "-c", "--constraint"):
        if "://" in value:
            result.problems.append(f"{path}:{number}: includes a remote file {value}")
            return
        # pip reads an include relative to the file that names it, in the image: one above the
        # context's root (or an absolute path) is no file of the context, whatever clean_path
        # would make of it (``../base.txt`` beside a root requirements.txt was read as base.txt)
        joined = posixpath.normpath(posixpath.join(posixpath.dirname(path) or ".", value))
        if value.startswith("/") or joined == ".." or joined.startswith("../"):
            result.problems.append(f"{path}:{number}: includes {value}, which is not a file of the build context")
            return
        include = clean_path(joined)
        _read_requirements_file(context, include, result, constraint=option in ("-c", "--constraint"), depth=depth + 1)
    elif option in ("-e", "--editable"):
        found = classify_requirement(value, path, number)
        requirement = Requirement(found.text, found.name, found.kind, path, number, editable=True)
        (result.constraints if constraint else result.requirements).append(requirement)
    elif option == "--no-binary":
        result.no_binary.update(_binary_names(value))
    elif option == "--only-binary":
        result.only_binary.update(_binary_names(value))
    elif option in ("-f", "--find-links"):
        result.find_links.append(value)
    elif option in _INDEX_OPTIONS and is_local_index(value):
        result.problems.append(f"{path}:{number}: reads a package index from a folder (`{option} {value}`)")


_GLUED_SHORT = ("-r", "-c", "-e", "-i", "-f")
_INDEX_OPTIONS = ("-i", "--index-url", "--extra-index-url")


def is_local_index(url: str) -> bool:
    """A package index pip reads from a folder (``file:///app/simple``, ``./simple``): a
    folder the install reads, like ``--find-links ./wheels``."""
    return url.lower().startswith("file:") or "://" not in url


def _option_at(words: list[str], i: int) -> tuple[str, str | None, int]:
    """(option, value, words used) for the option at ``words[i]``: ``--opt=v``, ``-rfile``,
    ``--opt v``; an option without a value has None."""
    word = words[i]
    if word.startswith("--") and "=" in word:
        option, value = word.split("=", 1)
        return option, value, 1
    if not word.startswith("--") and len(word) > 2 and word[:2] in _GLUED_SHORT:
        return word[:2], word[2:], 1
    if word in _OPTIONS_WITH_VALUE:
        return word, words[i + 1] if i + 1 < len(words) else None, 2
    return word, None, 1


def _binary_names(value: str) -> set[str]:
    return {v if v.startswith(":") else normalise_name(v) for v in value.split(",") if v}


def classify_requirement(text: str, file: str = "", line: int = 0) -> Requirement:
    """What kind of requirement a line (or a command-line operand) is."""
    spec = text.split(";", 1)[0].strip()
    lowered = spec.lower()
    if lowered.startswith(_VCS_PREFIXES):  # git+file:///app/repo clones a folder of the project
        return Requirement(text, _egg_name(spec), "path" if "+file:" in lowered else "vcs", file, line)
    if " @ " in spec or re.match(r"^[A-Za-z0-9._-]+(\[[^\]]*\])?\s*@\s*\S", spec):
        name, _, url = spec.partition("@")
        url = url.strip()
        lowered_url = url.lower()
        kind = (
            "path"
            if lowered_url.startswith("file:") or "+file:" in lowered_url
            else ("vcs" if lowered_url.startswith(_VCS_PREFIXES) else "url")
        )
        return Requirement(text, normalise_name(name.split("[")[0].strip()), kind, file, line)
    if "://" in lowered:
        kind = "path" if lowered.startswith("file:") else "url"
        return Requirement(text, _egg_name(spec), kind, file, line)
    if lowered.startswith("file:") or _looks_like_path(spec):
        return Requirement(text, None, "path", file, line)
    match = _NAME.match(spec)
    return Requirement(text, normalise_name(match.group(1)) if match else None, "name", file, line)


def _looks_like_path(spec: str) -> bool:
    return (
        spec in (".", "..")
        or spec.startswith(("./", "../", "/", "~"))
        or "/" in spec.split("[", 1)[0]
        or spec.lower().endswith(_ARCHIVE_SUFFIXES)
    )


def _egg_name(spec: str) -> str | None:
    match = re.search(r"[#&]egg=([A-Za-z0-9._-]+)", spec)
    return normalise_name(match.group(1)) if match else None


# ---------------------------------------------------------------------------------------------
# package.json and the Node lockfiles

# scripts npm/yarn/pnpm run for the root package on a plain install (they may read any file)
NODE_INSTALL_SCRIPTS = ("preinstall", "install", "postinstall", "prepublish", "preprepare", "prepare", "postprepare")
NODE_LOCAL_SPECS = ("file:", "link:", "portal:", "workspace:")
# a spec npm reads as a folder or tarball of the project without a `file:` prefix
# (npm-package-arg's isFilespec: `./x`, `../x`, `~/x`, `/x`, a Windows drive)
_NODE_PATH_SPEC = re.compile(r"(?:[.]|~/|[/\\]|[a-zA-Z]:)")
# sections whose shape says what an install reads: anything but an object of strings is not known
_NODE_STRING_MAPS = ("scripts", "dependencies", "devDependencies", "optionalDependencies", "resolutions")


# Yarn 2+'s `patch:` protocol names its patch file after `#`; `yarn patch-commit -s` writes
# them under .yarn/patches (copied with the manifests) and Yarn's own patches are `builtin<...>`
_YARN_PATCH_FOLDERS = ("~/.yarn/patches/", "./.yarn/patches/", ".yarn/patches/")


def is_local_node_spec(spec: str) -> bool:
    """A dependency spec that installs from a path of the project (``workspace:`` included),
    or patches one with a file of the project outside .yarn/patches."""
    if spec.startswith("patch:"):
        return _yarn_patch_reads_project_file(spec)
    return spec.startswith(NODE_LOCAL_SPECS) or _NODE_PATH_SPEC.match(spec) is not None


def _yarn_patch_reads_project_file(spec: str) -> bool:
    """``patch:lodash@npm%3A4.17.21#./patches/lodash.patch``: the patch file after ``#`` (its
    ``::`` parameters cut), unless Yarn's own or under .yarn/patches."""
    _, _, patch = spec.partition("#")
    patch = patch.split("::", 1)[0]
    for name in patch.split("&"):  # several patches are joined with `&`
        name = name.removeprefix("optional!")
        if name and not name.startswith(("builtin<", *_YARN_PATCH_FOLDERS)):
            return True
    return False
NODE_LOCKFILES = {
    "npm": ("package-lock.json", "npm-shrinkwrap.json"),
    "yarn": ("yarn.lock",),
    "pnpm": ("pnpm-lock.yaml",),
}


@dataclass
class PackageJson:
    """A parsed package.json. Its sections are made once and shared: read them, never change
    them (a file of thousands of ``npm run`` lines asked for the scripts at every one)."""

    path: str
    data: dict[str, Any]
    _sections: dict[str, dict[str, str]] = field(default_factory=dict, repr=False, compare=False)
    _read_scripts: dict[tuple[Callable[[str], Any], str], Any] = field(default_factory=dict, repr=False, compare=False)

    def section(self, key: str) -> dict[str, str]:
        found = self._sections.get(key)
        if found is None:
            value = self.data.get(key)
            found = {k: v for k, v in value.items() if isinstance(v, str)} if isinstance(value, dict) else {}
            self._sections[key] = found
        return found

    @property
    def dependencies(self) -> dict[str, str]:
        return self.section("dependencies")

    @property
    def dev_dependencies(self) -> dict[str, str]:
        return self.section("devDependencies")

    @property
    def optional_dependencies(self) -> dict[str, str]:
        return self.section("optionalDependencies")

    @cached_property
    def all_dependencies(self) -> dict[str, str]:
        return {**self.dev_dependencies, **self.optional_dependencies, **self.dependencies}

    @property
    def scripts(self) -> dict[str, str]:
        return self.section("scripts")

    def read_script(self, name: str, read: Callable[[str], T]) -> T:
        """``read(text of the script name)``, once per script and reader: the rounds of
        ``fix`` and each collector parsed every script again (a file of thousands of
        ``npm run`` lines). ``name`` must be one of :attr:`scripts`."""
        key = (read, name)
        if key not in self._read_scripts:
            self._read_scripts[key] = read(self.scripts[name])
        return self._read_scripts[key]  # type: ignore[no-any-return]

    @cached_property
    def install_scripts(self) -> dict[str, str]:
        """Lifecycle scripts an install runs for the root package."""
        return {k: v for k, v in self.scripts.items() if k in NODE_INSTALL_SCRIPTS}

    @property
    def workspaces(self) -> list[str]:
        value = self._workspaces_as_written
        return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []

    @property
    def _workspaces_as_written(self) -> Any:
        """``workspaces``, yarn classic's ``{"packages": [...], "nohoist": [...]}`` unwrapped."""
        value = self.data.get("workspaces")
        return value.get("packages", []) if isinstance(value, dict) else value

    @cached_property
    def workspaces_problem(self) -> str | None:
        """Why the workspaces are not known, when ``workspaces`` is there but is not a list of
        folder patterns (nor yarn's ``{"packages": [...]}``): npm and yarn refuse it or read
        it their own way, and :attr:`workspaces` would quietly be empty."""
        if "workspaces" not in self.data:
            return None
        value = self._workspaces_as_written
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return None
        return f"{self.path}'s `workspaces` is not a list of folder patterns"

    @property
    def declares_workspaces(self) -> bool:
        """Workspaces, or a ``workspaces`` that cannot be read (so none cannot be assumed)."""
        return bool(self.workspaces) or self.workspaces_problem is not None

    @property
    def local_dependencies(self) -> dict[str, str]:
        """Dependencies installed from a path of the context (``file:../lib``, ``link:``,
        ``../lib``)."""
        return {k: v for k, v in self.all_dependencies.items() if is_local_node_spec(v)}

    @cached_property
    def local_overrides(self) -> list[tuple[str, str, str]]:
        """(field, package, spec) of each override that installs from a path of the project:
        npm's ``overrides`` (nested), yarn's ``resolutions``, pnpm's ``pnpm.overrides``. The
        install reads that folder as it reads a ``file:`` dependency."""
        found: list[tuple[str, str, str]] = []
        pnpm = self.data.get("pnpm")
        tables = [("overrides", self.data.get("overrides")), ("resolutions", self.data.get("resolutions"))]
        tables.append(("pnpm.overrides", pnpm.get("overrides") if isinstance(pnpm, dict) else None))
        for name, table in tables:
            pending = [table] if isinstance(table, dict) else []
            while pending:
                for key, value in pending.pop().items():
                    if isinstance(value, dict):
                        pending.append(value)
                    elif isinstance(value, str) and is_local_node_spec(value) and not value.startswith("workspace:"):
                        found.append((name, key, value))
        return found

    @cached_property
    def shape_problem(self) -> str | None:
        """Why the sections that say what an install reads cannot be read: a ``scripts`` or a
        dependency list that is not an object of strings was read as empty."""
        for key in _NODE_STRING_MAPS:
            value = self.data.get(key, {})
            if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
                return f"{self.path}'s `{key}` is not an object of strings"
        return None

    @property
    def package_manager(self) -> str | None:
        """``packageManager`` (corepack), e.g. ``yarn@4.1.0``."""
        value = self.data.get("packageManager")
        return value if isinstance(value, str) else None


def default_gyp_build(package: PackageJson, files: BuildContext, manifest: str) -> str | None:
    """Why npm's default install script runs for the package.json at ``manifest``: "If there
    is a binding.gyp file in the root of your package and you haven't defined your own install
    or preinstall scripts, npm will default the install command to compile using node-gyp"
    (npm's "scripts" page; ``"gypfile": true`` says the same). None when it does not."""
    scripts = package.scripts
    if "install" in scripts or "preinstall" in scripts:
        return None
    gyp = posixpath.join(posixpath.dirname(manifest), "binding.gyp")
    if files.is_file(gyp):
        return f"{gyp} in the context"
    return f'"gypfile": true in {manifest}' if package.data.get("gypfile") is True else None


def read_package_json(context: BuildContext, path: str) -> PackageJson | str:
    """The parsed ``package.json`` at ``path``, or the reason it could not be read (once per
    build context and path)."""
    path = clean_path(path)
    return context.derived(("package.json", path), lambda: _read_package_json(context, path))


def _read_package_json(context: BuildContext, path: str) -> PackageJson | str:
    text = context.read_text(path)
    if text is None:
        return f"{path} " + (_sent_but_unread(context, path) or "is not in the build context") + (
            " (excluded by .dockerignore)" if context.ignored(path) and context.on_disk(path) else ""
        )
    try:
        data = json_loads(text)
    except ValueError as exc:
        return f"{path} is not valid JSON ({exc})"
    if not isinstance(data, dict):
        return f"{path} is not a JSON object"
    return PackageJson(path, data)


def npm_lock_in_sync(package: PackageJson, lock_text: str) -> str | None:
    """None when ``npm ci`` would accept the lockfile, else why not. npm ci refuses a lockfile
    whose root entry does not list the same dependency ranges as package.json."""
    try:
        lock = json_loads(lock_text)
    except ValueError as exc:
        return f"the lockfile is not valid JSON ({exc})"
    root = lock.get("packages", {}).get("") if isinstance(lock.get("packages"), dict) else None
    if not isinstance(root, dict):
        return "the lockfile has no root entry (lockfileVersion 1 is not checked)"
    for key in ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies"):
        wanted = package.section(key)
        locked = root.get(key) or {}
        if wanted != locked:
            return f"package.json {key} differ from the lockfile's"
    return None


def read_jsonc(context: BuildContext, path: str) -> dict[str, Any] | str:
    """A JSON file that may have comments and trailing commas (tsconfig.json, as TypeScript
    reads it), or the reason it could not be read."""
    text = context.read_text(path)
    if text is None:
        return f"{clean_path(path)} " + (_sent_but_unread(context, path) or "is not in the build context")
    try:
        data = parse_jsonc(text)
    except ValueError as exc:
        return f"{clean_path(path)} is not valid JSON ({exc})"
    return data if isinstance(data, dict) else f"{clean_path(path)} is not a JSON object"


def parse_jsonc(text: str) -> Any:
    """JSON with ``//`` and ``/* */`` comments and trailing commas; ValueError when invalid."""
    return json_loads(_without_trailing_commas(_without_comments(text)))


_JSONC_TOKENS = re.compile(r'"(?:[^"\\\n]|\\.)*"|//[^\n]*|/\*.*?\*/', re.DOTALL)
_TRAILING_COMMA = re.compile(r'"(?:[^"\\\n]|\\.)*"|,(\s*[}\]])')


def _without_comments(text: str) -> str:
    """Comments become blanks (strings are kept as they are, slashes inside them too)."""
    return _JSONC_TOKENS.sub(lambda m: m.group(0) if m.group(0).startswith('"') else " ", text)


def _without_trailing_commas(text: str) -> str:
    return _TRAILING_COMMA.sub(lambda m: m.group(1) if m.group(1) is not None else m.group(0), text)


# what `yarn install --frozen-lockfile` / `--immutable` and `pnpm install --frozen-lockfile`
# compare: the dependency sections of package.json
NODE_DEPENDENCY_SECTIONS = ("dependencies", "devDependencies", "optionalDependencies")


@dataclass(frozen=True)
class YarnLock:
    """A ``yarn.lock``: Yarn 2+ ("berry") writes a ``__metadata`` entry, Yarn 1 does not."""

    berry: bool
    descriptors: frozenset[str]  # every `name@range` an entry is keyed by


def read_yarn_lock(text: str) -> YarnLock:
    """The entry keys of a yarn.lock (both formats key entries by their descriptors at the
    start of a line: ``"a@^1", a@^1.2:`` / ``"a@npm:^1":``)."""
    descriptors: set[str] = set()
    berry = False
    for line in text.splitlines():
        if not line or line[0] in " \t#" or not line.rstrip().endswith(":"):
            continue
        key = line.rstrip()[:-1]
        if key == "__metadata":
            berry = True
            continue
        for part in key.split(","):
            descriptor = part.strip().strip('"')
            if descriptor:
                descriptors.add(descriptor)
    return YarnLock(berry, frozenset(descriptors))


def yarn_lock_in_sync(package: PackageJson, lock: YarnLock) -> str | None:
    """None when every dependency of package.json has its entry in the lockfile, as
    ``yarn install --frozen-lockfile`` (Yarn 1) and ``--immutable`` (Yarn 2+) require; else why
    not. Yarn 2+ keys a plain range under the ``npm:`` protocol."""
    for section in NODE_DEPENDENCY_SECTIONS:
        for name, spec in package.section(section).items():
            wanted = f"{name}@{spec}"
            if lock.berry:
                if ":" in spec or "/" in spec:
                    if wanted not in lock.descriptors:
                        return f"`{name}@{spec}` is not in yarn.lock (or uses a protocol slimfile does not check)"
                    continue
                wanted = f"{name}@npm:{spec}"
            if wanted not in lock.descriptors:
                return f"package.json {section} `{name}@{spec}` has no entry in yarn.lock"
    return None


def read_simple_yaml(text: str) -> dict[str, Any] | str:
    """The block mappings of a machine-written YAML file (``pnpm-lock.yaml``): nested dicts of
    plain or quoted scalars; a flow value (``{node: '>=12'}``) and a block list are kept as
    raw text. Anything else (tabs, anchors, multi-line scalars) is refused with the reason."""
    root: dict[str, Any] = {}
    stack: list[tuple[int, dict[str, Any]]] = [(-1, root)]
    last_key: tuple[dict[str, Any], str] | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#") or raw.startswith("---"):
            continue
        if "\t" in raw[: len(raw) - len(raw.lstrip())]:
            return f"line {number} is indented with a tab"
        indent = len(raw) - len(raw.lstrip(" "))
        line = raw.strip()
        while stack and indent <= stack[-1][0]:
            stack.pop()
        parent = stack[-1][1]
        if line.startswith("- ") or line == "-":
            if last_key is None:
                return f"line {number}: a list slimfile does not read"
            holder, key = last_key
            value = holder.get(key)
            holder[key] = (value if isinstance(value, list) else []) + [yaml_scalar(line[1:].strip())]
            continue
        key, value = _yaml_key_value(line)
        if key is None:
            return f"line {number} is not a `key: value` line"
        if value in ("|", ">", "|-", ">-") or value.startswith(("&", "*")):
            return f"line {number} uses YAML slimfile does not read"
        if value == "":
            child: dict[str, Any] = {}
            parent[key] = child
            stack.append((indent, child))
        else:
            parent[key] = yaml_scalar(value)
        last_key = (parent, key)
    return root


def _yaml_key_value(line: str) -> tuple[str | None, str]:
    if line[0] in "'\"":
        quote = line[0]
        end = line.find(quote, 1)
        while quote == "'" and end != -1 and line[end + 1 : end + 2] == "'":
            end = line.find(quote, end + 2)
        if end == -1 or line[end + 1 : end + 2] != ":":
            return None, ""
        return yaml_scalar(line[: end + 1]), line[end + 2 :].strip()
    key, sep, value = line.partition(": ")
    if not sep:
        if not line.endswith(":"):
            return None, ""
        key, value = line[:-1], ""
    return key.strip(), value.strip()


def yaml_scalar(value: str) -> str:
    """A plain or quoted YAML scalar's text (a trailing `` #`` comment cut)."""
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1].replace("''", "'")
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return json.loads(value) if "\\" in value else value[1:-1]
    return value.split(" #", 1)[0].strip()


@dataclass(frozen=True)
class PnpmLock:
    version: str  # lockfileVersion as written: "5.4", "6.0", "9.0"
    specifiers: dict[str, dict[str, str]] | None  # the root project's {section: {name: specifier}}
    extras: tuple[str, ...]  # top-level keys that pin more than the specifiers (overrides, patches...)
    settings: dict[str, str]


def read_pnpm_lock(text: str) -> PnpmLock | str:
    """The root project's specifiers of a pnpm-lock.yaml (formats 5.x, 6.x and 9.x)."""
    data = read_simple_yaml(text)
    if isinstance(data, str):
        return f"pnpm-lock.yaml: {data}"
    version = str(data.get("lockfileVersion", "")).strip("'\"")
    if not version:
        return "pnpm-lock.yaml has no lockfileVersion"
    extras = tuple(k for k in ("overrides", "patchedDependencies", "packageExtensionsChecksum", "pnpmfileChecksum", "catalogs") if k in data)
    settings = data.get("settings") if isinstance(data.get("settings"), dict) else {}
    importers = data.get("importers")
    project = importers.get(".") if isinstance(importers, dict) else data
    if not isinstance(project, dict):
        return "pnpm-lock.yaml has no entry for the root project"
    specifiers: dict[str, dict[str, str]] = {}
    flat = project.get("specifiers") if isinstance(project.get("specifiers"), dict) else None
    for section in NODE_DEPENDENCY_SECTIONS:
        entries = project.get(section)
        if entries in (None, "{}"):
            specifiers[section] = {}
            continue
        if not isinstance(entries, dict):
            return f"pnpm-lock.yaml: `{section}` is not a mapping"
        found = {}
        for name, entry in entries.items():
            if isinstance(entry, dict) and "specifier" in entry:
                found[name] = entry["specifier"]
            elif flat is not None and name in flat:
                found[name] = flat[name]
            else:
                return f"pnpm-lock.yaml: no specifier for `{name}`"
        specifiers[section] = found
    return PnpmLock(version, specifiers, extras, {k: v for k, v in settings.items() if isinstance(v, str)})


def pnpm_lock_in_sync(package: PackageJson, lock: PnpmLock) -> str | None:
    """None when the lockfile's root project lists exactly package.json's dependency ranges
    (what ``pnpm install --frozen-lockfile`` checks), else why not."""
    if lock.extras:
        return f"pnpm-lock.yaml has `{lock.extras[0]}`, which slimfile does not check"
    if package.data.get("pnpm") or package.data.get("resolutions"):
        return f"{package.path} configures pnpm (overrides, patches), which slimfile does not check"
    assert lock.specifiers is not None
    for section in NODE_DEPENDENCY_SECTIONS:
        wanted = package.section(section)
        locked = lock.specifiers.get(section, {})
        if wanted != locked:
            changed = sorted(set(wanted.items()) ^ set(locked.items()))
            name = changed[0][0] if changed else section
            return f"package.json {section} differ from pnpm-lock.yaml (`{name}`)"
    return None


# ---------------------------------------------------------------------------------------------
# TOML manifests (pyproject.toml, Cargo.toml) and the small line formats (go.mod, Gemfile)


def read_toml(context: BuildContext, path: str) -> dict[str, Any] | str:
    text = context.read_text(path)
    if text is None:
        return f"{clean_path(path)} " + (_sent_but_unread(context, path) or "is not in the build context")
    try:
        return toml_loads(text)
    except tomllib.TOMLDecodeError as exc:
        return f"{clean_path(path)} is not valid TOML ({exc})"


@dataclass(frozen=True)
class GoMod:
    module: str | None
    local_replacements: tuple[str, ...]  # `replace x => ../y` targets inside or outside the context
    requires: tuple[str, ...]


def read_go_mod(context: BuildContext, path: str) -> GoMod | str:
    text = context.read_text(path)
    if text is None:
        return f"{clean_path(path)} " + (_sent_but_unread(context, path) or "is not in the build context")
    module = None
    replacements: list[str] = []
    requires: list[str] = []
    block = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("//", 1)[0].strip()
        if not line:
            continue
        problem = None
        if block is not None:
            if line == ")":
                block = None
                continue
            problem = _go_mod_entry(block, line, replacements, requires)
        else:
            keyword, _, rest = line.partition(" ")
            rest = rest.strip()
            if keyword == "module":
                module = rest.strip('"')
            elif keyword in ("replace", "require") and rest == "(":
                block = keyword
            elif keyword in ("replace", "require"):
                problem = _go_mod_entry(keyword, rest, replacements, requires)
        if problem:  # the go command refuses the file too ("errors parsing go.mod")
            return f"{clean_path(path)} line {number}: {problem}"
    return GoMod(module, tuple(replacements), tuple(requires))


def _go_mod_entry(kind: str, entry: str, replacements: list[str], requires: list[str]) -> str | None:
    """Record a ``require`` or ``replace`` line; why it is malformed, if it is."""
    if kind == "require":
        words = entry.split()
        if not words:
            return "`require` names no module"
        requires.append(words[0])
        return None
    if "=>" not in entry:
        return None
    old, new = (part.split() for part in entry.split("=>", 1))
    if not old or not new:
        return f"`replace {entry}` needs a module on each side of `=>`"
    target = new[0]
    if target.startswith(("./", "../", "/")) or target in (".", ".."):
        replacements.append(target)
    return None


@dataclass(frozen=True)
class Gemfile:
    gemspec: bool  # `gemspec` reads *.gemspec, which may read any file
    local_paths: tuple[str, ...]  # `path:` gems and `path "x" do` blocks
    gems: tuple[str, ...]
    reads: tuple[str, ...] = ()  # files it names for bundler to read (`ruby file: ".ruby-version"`)
    dynamic: tuple[str, ...] = ()  # Ruby that may read other files (`eval_gemfile`, `Dir[...]`)


_GEM = re.compile(r"""^\s*gem\s+["']([^"']+)["']""")
# `ruby file: ".ruby-version"` and `File.read(".ruby-version")`: a file bundler reads
_GEMFILE_READS = re.compile(r"""(?:\bfile:\s*|=>\s*|File\.read\(\s*)["']([^"'/]+)["']""")
_GEMFILE_DYNAMIC = re.compile(r"\b(eval_gemfile|instance_eval|require_relative|require|load|Dir\[|Dir\.glob|File\.\w+|IO\.\w+|`)")


# a gem's `git:` repository and a `source` of gems, which Bundler reads from a folder when they
# name one (`git: "file:///app/vendor/x"`, `source "./gems"`; `git@host:x.git` is remote)
_GEMFILE_LOCATIONS = re.compile(r"""(?:\bgit(?::\s*|\s*=>\s*|\s+)|^\s*source\s*\(?\s*)["']([^"']+)["']""")


def is_local_repository(url: str) -> bool:
    """A repository or gem source read from a folder: a path or a ``file:`` URL; not
    ``https://``, nor git's ``git@host:path`` (Bundler's `git:`/`source`, Composer's vcs)."""
    return url.startswith("file:") or ("://" not in url and re.match(r"[^/]*@[^/]*:", url) is None)


def read_gemfile(context: BuildContext, path: str) -> Gemfile | str:
    text = context.read_text(path)
    if text is None:
        return f"{clean_path(path)} " + (_sent_but_unread(context, path) or "is not in the build context")
    gems, local, reads, dynamic = [], [], [], []
    gemspec = False
    for raw in text.splitlines():
        line = raw.split("#", 1)[0]
        if re.match(r"^\s*gemspec\b", line):
            gemspec = True
        match = _GEM.match(line)
        if match:
            gems.append(match.group(1))
        path_match = re.search(r"""\bpath(?::\s*|\s*=>\s*|\s+)["']([^"']+)["']""", line)
        if path_match:
            local.append(path_match.group(1))
        local.extend(found for found in _GEMFILE_LOCATIONS.findall(line) if is_local_repository(found))
        if re.match(r"^\s*ruby\b", line) or "File.read(" in line:
            named = _GEMFILE_READS.findall(line)
            reads.extend(named)
            line = _GEMFILE_READS.sub("", line).replace("File.read(", "(")
        found = _GEMFILE_DYNAMIC.search(line)
        if found:
            dynamic.append(found.group(1))
    return Gemfile(gemspec, tuple(local), tuple(gems), tuple(dict.fromkeys(reads)), tuple(dynamic))
