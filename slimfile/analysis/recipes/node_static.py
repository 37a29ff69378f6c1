"""A static front end: the image only runs ``serve -s`` on the folder the build wrote, so an
nginx release stage can answer every request the same way.

`serve -s DIR` (vercel/serve 14 with serve-handler 6) answers a path with an extension that
names a file with that file, and every other path with DIR/index.html; ``/x.html`` and
``/x/index`` redirect (301) to ``/x`` first (its clean URLs). The nginx config of
``data/recipes.toml`` [node.static.nginx] does exactly that, on the ports serve listens on
given with ``-l``/``-p``, with the same charset and compression thresholds; the
real-build test compares the answers of both images path by path. Anything that would make
the two answer differently keeps the release on node (the finding says why): serve without
``-s`` (it lists folders and renders its own 404 page), serve without ``-l`` (it listens on
$PORT as the container sets it when it starts; nginx's port is fixed when the image is
built), an option nginx is not given, a serve.json, a non-root USER (nginx needs root to start), an ENTRYPOINT, a folder the build
does not write.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from slimfile.analysis.build_context import ContextTooLarge
from slimfile.analysis.recipes.files import recipe_data
from slimfile.analysis.recipes.node_build import operands
from slimfile.analysis.recipes.node_commands import Invocation, Project
from slimfile.analysis.steps import Step

_TCP = re.compile(r"^(?:tcp://)?(?:(?P<host>[0-9.]+|localhost|\[[0-9a-fA-F:]+\]):)?(?P<port>[0-9]{1,5})$")


@dataclass(frozen=True)
class NginxSite:
    served: str  # the image folder serve served (a build output)
    listens: tuple[str, ...]  # nginx `listen` arguments: "5173", "127.0.0.1:8080"
    gzip: bool
    etag: bool

    @property
    def ports(self) -> str:
        return ", ".join(self.listens)

    def run_lines(self) -> list[str]:
        """The RUN that writes the config: ``printf '%s\\n' 'line' ... >conf``, one line each."""
        nginx = _data()["nginx"]
        lines: list[str] = []
        for line in nginx["server"]:
            if line == "{listen}":
                lines += [f"    listen {listen};" for listen in self.listens]
            elif line == "{gzip}":
                lines += nginx["gzip"] if self.gzip else []
            elif line == "{types}":
                lines += nginx["types"]
            elif line == "{etag}":
                lines += [] if self.etag else ["    etag off;"]
            else:
                lines.append(line)
        quoted = [f"'{line}'" for line in lines]
        quoted[-1] += f" >{nginx['conf']}"
        return ["printf '%s\\n'", *quoted]


def _data() -> dict:
    return recipe_data("node")["static"]


def nginx_site(project: Project, serve: Invocation, outputs: list[str], steps: list[Step]) -> NginxSite | str:
    """The nginx site that answers like ``serve``, or why nginx would answer differently."""
    spec = _data()["serve"]
    if project.dependency_kind("serve") == "dev":
        return "serve is a devDependency"  # the start check refuses this first; kept for clarity
    args = serve.args
    with_value = set(spec["port_options"])
    known = set(spec["neutral_options"]) | set(spec["no_compression"]) | set(spec["no_etag"]) | with_value
    for arg in args:
        option = arg.split("=", 1)[0]
        if arg.startswith("-") and option not in known:
            return f"serve's `{option}` has no nginx counterpart here"
    if not any(a in ("-s", "--single") for a in args):
        return "without -s, serve lists folders and renders its own 404 page, which nginx does not do the same way"
    folders = operands(args, with_value)
    if len(folders) != 1:
        return "serve serves the project folder itself" if not folders else "serve is given several folders"
    served = project.path(folders[0], serve.cwd)
    if served not in outputs:
        return f"serve serves {folders[0]}, which is not what the build writes"
    listens = _listens(args, with_value, spec)
    if isinstance(listens, str):
        return listens
    problem = _config_files(project, spec["config_files"]) or _content_types(project) or _image_config(steps)
    if problem:
        return problem
    gzip = not any(a in spec["no_compression"] for a in args)
    etag = not any(a in spec["no_etag"] for a in args)
    return NginxSite(served, tuple(listens), gzip, etag)


def _listens(args: tuple[str, ...], with_value: set[str], spec: dict) -> list[str] | str:
    values = []
    for i, arg in enumerate(args):
        option, eq, inline = arg.partition("=")
        if option in with_value:
            values.append(inline if eq else (args[i + 1] if i + 1 < len(args) else ""))
    if not values:
        # serve reads $PORT when the container starts (`docker run -e PORT=8080`, platforms that
        # set it): nginx's `listen` is fixed when the image is built, so it would not follow
        return (
            f"serve listens on ${spec['port_env']} as the container sets it when it starts ({spec['default_port']} when unset), "
            "while nginx's port is fixed in its config (give serve `-l PORT`)"
        )
    listens = []
    for value in values:
        match = _TCP.match(value)
        if match is None:
            return f"serve listens on `{value}`, which is not a TCP port slimfile writes for nginx"
        host = match.group("host")
        port = match.group("port")
        listens.append(port if host in (None, "0.0.0.0") else f"{'127.0.0.1' if host == 'localhost' else host}:{port}")
    return listens


def _config_files(project: Project, names: list[str]) -> str | None:
    """serve reads serve.json (or now.json) from the folder it serves: a build may copy one
    there from anywhere in the project, so any of them in the context keeps serve."""
    files = project.paths.files
    try:
        listing = files.listing()
    except ContextTooLarge as exc:
        return str(exc)
    for path in listing.files:
        if posixpath.basename(path) in names and "node_modules/" not in path:
            return f"serve reads {path}, a config nginx is not given"
    return None


def _content_types(project: Project) -> str | None:
    """A file of the context whose extension serve and nginx may type differently: the bundle
    may carry it (public/ is copied as it is, imported assets keep their extension)."""
    nginx = _data()["nginx"]
    known = set(nginx["same"]) | {ext for line in nginx["types"][1:-1] for ext in line.rstrip(";").split()[1:]}
    try:
        listing = project.paths.files.listing()
    except ContextTooLarge as exc:
        return str(exc)
    for path in listing.files:
        name = posixpath.basename(path)
        extension = name.rpartition(".")[2].lower() if "." in name.lstrip(".") else ""
        if extension and extension not in known and not _build_input(path):
            return f"{path}: serve and nginx may send different Content-Types for .{extension} files"
    return None


def _build_input(path: str) -> bool:
    """Files that never reach the served folder as they are: the project's own files at the top
    (package.json, tool configs), dependencies, sources a bundler compiles."""
    if "/" not in path or path.startswith("node_modules/") or "/node_modules/" in path:
        return True
    return path.rpartition(".")[2].lower() in _COMPILED


_COMPILED = frozenset({"ts", "tsx", "mts", "cts", "jsx", "vue", "svelte", "scss", "sass", "less", "styl"})


def _image_config(steps: list[Step]) -> str | None:
    if any(step.instruction.name == "ENTRYPOINT" for step in steps):
        return "the stage sets an ENTRYPOINT, which would replace nginx's"
    user = steps[-1].state.user if steps else "root"
    if user.split(":", 1)[0] not in ("root", "0", ""):
        return f"the image runs as `{user}`, and nginx needs root to start"
    if any(step.instruction.name == "HEALTHCHECK" for step in steps):
        return "the stage has a HEALTHCHECK, which runs a program of the node image"
    return None
