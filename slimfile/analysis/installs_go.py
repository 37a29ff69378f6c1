"""Go: ``go mod download``, and builds that download their modules as they go.

``go build``, ``go install ./...`` and ``go test`` after ``COPY . .`` download every module
of ``go.mod`` on every source edit. Their dependencies-only form is ``go mod download``, which
reads only ``go.mod`` and ``go.sum``: it runs in a new RUN above the copy, and the build stays
where it is (it compiles the sources) but finds the modules in the module cache. ``go mod
download`` itself, after the copy, moves up whole.

What makes the reads unbounded, and refused: a ``replace`` directive that points at a folder
(the module is read from there), a ``go.work`` (the workspace's modules are read), a
``vendor/`` folder or ``-mod=vendor`` (nothing is downloaded: there is nothing to gain), the
same flags in GOFLAGS (or a GOFLAGS not known here) and GOWORK / GOENV naming a file,
``go mod tidy``/``vendor``/``go get`` (they read every source file and rewrite go.mod).
The files and paths are data (``data/dependency_installs.toml``).
"""

from __future__ import annotations

import posixpath
import re

from slimfile.analysis.install_model import Install, InstallRequest, NotMovable
from slimfile.analysis.manifests import read_go_mod


def go_install(request: InstallRequest) -> Install | NotMovable | None:
    fact = request.fact
    words = [w.value for w in fact.subcommand]
    if fact.action == "download" and words != ["mod", "download"]:
        return request.refuse(f"`go {' '.join(words)}` reads every source file and may rewrite go.mod")
    if words == ["get"]:
        return request.refuse("`go get` changes go.mod")
    if words == ["install"] and any("@" in w.value for w in fact.packages):
        return None  # `go install tool@v1.2.3`: a tool from the module proxy, not the project
    for option in ("-C", "-modfile"):
        if fact.option(option):
            return request.refuse(f"`{option}` points the build at another folder or go.mod")
    if any(o.name == "-mod" and o.value == "vendor" for o in fact.options):
        return request.refuse("`-mod=vendor` builds from vendor/: nothing is downloaded")
    problem = _goflags_problem(request) or _goproxy_problem(request)
    if problem:
        return problem
    module = _module_root(request)
    if isinstance(module, NotMovable):
        return module
    problem = _module_problem(request, module)
    if problem:
        return problem
    caches = _module_cache(request)
    if isinstance(caches, NotMovable):
        return caches
    outside = request.outside()
    if isinstance(outside, str):
        return request.refuse(outside)
    uses, writes = outside
    writes = tuple(sorted({*writes, *caches}))
    reads = [posixpath.join(module, "go.mod")]
    if request.files is not None and request.sent(posixpath.relpath(posixpath.join(module, "go.sum"), request.cwd)):
        reads.append(posixpath.join(module, "go.sum"))
    prepare = None if fact.action == "download" else request.spec["prepare_command"]
    return Install(request.ecosystem, fact, tuple(reads), (), prepare=prepare, writes=writes, env=tuple(request.spec["env"]), uses=uses)


def _goflags_problem(request: InstallRequest) -> NotMovable | None:
    """GOFLAGS is read as flags of every go command (``go mod download`` too): a flag that
    points at another go.mod, or a value not known here, leaves what the install reads unknown."""
    flags = request.argument_variable("GOFLAGS")
    if isinstance(flags, NotMovable):
        return flags
    for flag in flags:
        name, _, setting = flag.lstrip("-").partition("=")
        if name == "modfile":
            return request.refuse(f"`{flag}` (GOFLAGS) points the build at another go.mod")
        if name == "mod" and setting == "vendor":
            return request.refuse(f"`{flag}` (GOFLAGS) builds from vendor/: nothing is downloaded")
    return None


def _goproxy_problem(request: InstallRequest) -> NotMovable | None:
    """A ``file://`` entry of GOPROXY (``go help goproxy``: entries split by ``,`` or ``|``)
    serves modules from a folder; one the copy brings is not there once the install is moved
    above it (``go mod download`` fails). A GOPROXY not known here may be one."""
    value = request.variable("GOPROXY", "GOPROXY names where modules come from, to a value not known here")
    if value is None or isinstance(value, NotMovable):
        return value
    for entry in re.split(r"[,|]", value):
        if entry.strip().lower().startswith("file:"):
            folder = posixpath.normpath("/" + entry.strip()[len("file:") :].lstrip("/"))
            if request.copy.context_path(folder) is not None:
                return request.refuse(f"GOPROXY reads modules from {folder}, which the copy brings")
    return None


def _module_root(request: InstallRequest) -> str | NotMovable:
    """The image folder whose go.mod the command uses: its folder or the nearest parent with
    one (go's own search), inside what the copy brings."""
    if request.files is None:
        return request.cwd
    folder = request.cwd
    while True:
        relative = posixpath.relpath(posixpath.join(folder, "go.mod"), request.cwd)
        if request.context(relative) is None:
            return request.refuse(f"no go.mod comes from the copy in {request.cwd} or above it")
        if request.sent(relative):
            return folder
        if folder == "/":
            return request.refuse("no go.mod in the build context")
        folder = posixpath.dirname(folder)


def _module_problem(request: InstallRequest, module: str) -> NotMovable | None:
    if request.files is None:
        return None
    relative = posixpath.relpath(module, request.cwd)
    go_mod = request.context(posixpath.join(relative, "go.mod"))
    assert go_mod is not None
    parsed = read_go_mod(request.files, go_mod)
    if isinstance(parsed, str):
        return request.refuse(parsed)
    if parsed.local_replacements:
        return request.refuse(f"go.mod replaces a module with the folder {parsed.local_replacements[0]}")
    if request.sent(posixpath.join(relative, "vendor")):
        return request.refuse("vendor/ is in the build context: go builds from it and downloads nothing")
    if request.env.get("GOWORK") == "off":  # "go help environment": the go.work files are ignored
        return None
    folder = module
    while True:
        if request.sent(posixpath.relpath(posixpath.join(folder, "go.work"), request.cwd)):
            return request.refuse("a go.work makes this a workspace: its modules are read too")
        if folder == "/" or request.copy.context_path(folder) in (None, ""):
            return None
        folder = posixpath.dirname(folder)


def _module_cache(request: InstallRequest) -> tuple[str, ...] | NotMovable:
    """Where the modules go: every candidate (GOMODCACHE, GOPATH's, the official images'
    /go/pkg/mod, $HOME/go), so that no step that touches one of them is passed."""
    caches = list(request.spec["module_caches"])
    if request.home is not None:
        caches.append(posixpath.join(request.home, "go"))
    for name in ("GOMODCACHE", "GOPATH"):
        value = request.env.get(name)
        if value is None:
            continue
        if "$" in value:
            return request.refuse(f"{name} is `{value}`, which slimfile cannot expand")
        caches.extend(entry for entry in value.split(":") if entry.startswith("/"))
    return tuple(caches)
