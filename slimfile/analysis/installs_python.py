"""Python dependency installs beyond ``pip -r``: poetry, uv and pipenv.

Each reader answers what the install reads from the project (``pyproject.toml`` and the
lockfile, ``Pipfile``...), what it writes there (``.venv``, a lockfile it creates) and outside
(its cache, the interpreter's prefix), and — when the install also installs the project itself
(poetry and uv install the root package) — the dependencies-only command that can run above
the copy of the sources (``poetry install --no-root``, ``uv sync --no-install-project``) while
the original stays below it. A dependency on a path of the project, a workspace, or metadata
that is built from the sources make the install's reads unbounded: the reader refuses and says
why. The file lists and paths are data (``data/dependency_installs.toml``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from slimfile.analysis.install_model import Install, InstallRequest, NotMovable
from slimfile.analysis.manifests import is_local_index, read_toml


def poetry_install(request: InstallRequest) -> Install | NotMovable:
    """``poetry install``: pyproject.toml, poetry.lock, poetry.toml; the root package too unless
    ``--no-root`` or ``package-mode = false``."""
    fact = request.fact
    if fact.packages or [w.value for w in fact.subcommand] != ["install"]:
        return request.refuse(f"`poetry {' '.join(w.value for w in fact.subcommand)}` changes pyproject.toml")
    problem = _folder_options(request, ("-C", "--directory", "-P", "--project"))
    if problem:
        return problem
    if fact.option("--only-root"):
        return request.refuse("`--only-root` installs only the project itself")
    data = _pyproject(request)
    if isinstance(data, NotMovable):
        return data
    poetry = _table(_table(data, "tool"), "poetry")
    local = _poetry_local_dependency(poetry) or _pep621_local_dependency(data)
    if local:
        return request.refuse(local)
    deps_only = fact.has("no-root") or poetry.get("package-mode") is False
    prepare = None if deps_only else request.with_option(request.spec["prepare_option"])
    if not deps_only and prepare is None:
        return request.refuse("the command cannot be written again with `--no-root`")
    return _install(request, prepare, lockfile="poetry.lock")


def uv_sync(request: InstallRequest) -> Install | NotMovable:
    """``uv sync``: pyproject.toml, uv.lock, .python-version, uv.toml; the project itself too
    unless ``--no-install-project`` or it is not a package."""
    fact = request.fact
    problem = _folder_options(request, ("--project", "--directory", "--package", "--script"))
    if problem:
        return problem
    if fact.option("--all-packages"):
        return request.refuse("`--all-packages` installs every workspace member")
    data = _pyproject(request)
    if isinstance(data, NotMovable):
        return data
    uv = _table(_table(data, "tool"), "uv")
    if "workspace" in uv:
        return request.refuse("the project is a uv workspace (its members' pyproject.toml files are read too)")
    for name, source in _table(uv, "sources").items():
        for item in source if isinstance(source, list) else [source]:
            if isinstance(item, dict) and ("path" in item or item.get("workspace") or str(item.get("url", "")).startswith("file:")):
                return request.refuse(f"[tool.uv.sources] installs `{name}` from a path of the project")
    settings = [("[tool.uv]", uv)]
    if request.files is not None and request.sent("uv.toml"):
        uv_toml = _toml(request, "uv.toml")
        if isinstance(uv_toml, NotMovable):
            return uv_toml
        settings.append(("uv.toml", uv_toml))
    for where, table in settings:
        folder = _uv_folder_index(table)
        if folder:
            return request.refuse(f"{where} reads packages from a folder ({folder})")
    local = _pep621_local_dependency(data)
    if local:
        return request.refuse(local)
    project = _table(data, "project")
    if data and not project:
        return request.refuse("pyproject.toml has no [project] table")
    if project.get("dynamic"):
        return request.refuse(f"[project] dynamic = {project['dynamic']}: uv builds the project to read them")
    is_package = uv.get("package", "build-system" in data) if data else True
    deps_only = not is_package or fact.has("no-install-project") or fact.option("--no-install-workspace") is not None
    prepare = None if deps_only else request.with_option(request.spec["prepare_option"])
    if not deps_only and prepare is None:
        return request.refuse("the command cannot be written again with `--no-install-project`")
    return _install(request, prepare, lockfile="uv.lock")


def pipenv_install(request: InstallRequest) -> Install | NotMovable:
    """``pipenv install`` / ``pipenv sync``: Pipfile, Pipfile.lock and .env (pipenv loads it)."""
    fact = request.fact
    if fact.packages:
        return request.refuse("`pipenv install NAME` adds packages, which rewrites the Pipfile")
    if fact.option("-r", "--requirements"):
        return request.refuse("`pipenv install -r` imports a requirements file into the Pipfile")
    if request.files is not None:
        pipfile = _toml(request, "Pipfile")
        if isinstance(pipfile, NotMovable):
            return pipfile
        local = _pipfile_local_dependency(pipfile)
        if local:
            return request.refuse(local)
    return _install(request, None, lockfile="Pipfile.lock")


# -- shared ---------------------------------------------------------------------------------------


def _install(request: InstallRequest, prepare: str | None, *, lockfile: str) -> Install | NotMovable:
    spec = request.spec
    outside = request.outside()
    if isinstance(outside, str):
        return request.refuse(outside)
    uses, writes = outside
    reads = [request.image(name) for name in spec["required"]]
    if request.files is None:
        # without the context only what the command needs is known; a frozen install needs its lockfile
        if request.fact.has("frozen-lockfile") or request.fact.has("deploy"):
            reads.append(request.image(lockfile))
    else:
        reads.extend(request.present(spec.get("optional", ())))
    outputs = [request.image(name) for name in spec.get("outputs", ())]
    if request.files is not None and not request.sent(lockfile):
        outputs.append(request.image(lockfile))  # the install resolves and writes the lockfile
    return Install(
        request.ecosystem,
        request.fact,
        tuple(dict.fromkeys(reads)),
        tuple(outputs),
        prepare=prepare,
        writes=writes,
        env=tuple(spec.get("env", ())),
        uses=uses,
    )


def _folder_options(request: InstallRequest, options: Iterable[str]) -> NotMovable | None:
    for option in options:
        if request.fact.option(option):
            return request.refuse(f"`{option}` points the install at another folder or project")
    return None


def _pyproject(request: InstallRequest) -> dict[str, Any] | NotMovable:
    if request.files is None:
        return {}
    return _toml(request, "pyproject.toml")


def _toml(request: InstallRequest, name: str) -> dict[str, Any] | NotMovable:
    source = request.context(name)
    if source is None:
        return request.refuse(f"{request.image(name)} does not come from the copy")
    assert request.files is not None
    data = read_toml(request.files, source)
    return request.refuse(data) if isinstance(data, str) else data


def _table(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _poetry_local_dependency(poetry: dict[str, Any]) -> str | None:
    """The first dependency poetry installs from a path of the project, or a local source."""
    tables = [_table(poetry, "dependencies"), _table(poetry, "dev-dependencies")]
    tables += [_table(group, "dependencies") for group in _table(poetry, "group").values() if isinstance(group, dict)]
    for table in tables:
        for name, spec in table.items():
            for item in spec if isinstance(spec, list) else [spec]:
                if isinstance(item, dict) and ("path" in item or "file" in item or str(item.get("url", "")).startswith("file:")):
                    return f"pyproject.toml installs `{name}` from a path of the project"
    for source in poetry.get("source", ()) if isinstance(poetry.get("source"), list) else ():
        url = str(source.get("url", "")) if isinstance(source, dict) else ""
        if url and is_local_index(url):
            return f"the package source `{url}` is a folder"
    return None


def _uv_folder_index(settings: dict[str, Any]) -> str | None:
    """A package index or link page of uv's settings that is a folder (``find-links =
    ["./wheels"]``, ``[[index]] url = "file:///app/simple"``): the install reads it."""
    urls: list[Any] = []
    for key in ("index-url", "extra-index-url", "find-links"):
        value = settings.get(key)
        urls.extend(value if isinstance(value, list) else [value])
    indexes = settings.get("index")
    for index in indexes if isinstance(indexes, list) else ():
        urls.append(index.get("url") if isinstance(index, dict) else None)
    return next((url for url in urls if isinstance(url, str) and is_local_index(url)), None)


def _pep621_local_dependency(data: dict[str, Any]) -> str | None:
    """A PEP 508 requirement of [project] or [dependency-groups] that names a local file."""
    project = _table(data, "project")
    dependencies = project.get("dependencies", [])
    if not isinstance(dependencies, list):  # pip, uv and poetry refuse the file too
        return "pyproject.toml is not valid: [project] `dependencies` must be an array"
    requirements: list[Any] = list(dependencies)
    for extra in _table(project, "optional-dependencies").values():
        requirements.extend(extra if isinstance(extra, list) else ())
    for group in _table(data, "dependency-groups").values():
        requirements.extend(group if isinstance(group, list) else ())
    for requirement in requirements:
        text = requirement if isinstance(requirement, str) else ""
        if "file:" in text or "{root" in text:
            return f"pyproject.toml requires `{text}`, a path of the project"
    return None


def _pipfile_local_dependency(pipfile: dict[str, Any]) -> str | None:
    sources = pipfile.get("source")
    for source in sources if isinstance(sources, list) else ():
        url = source.get("url") if isinstance(source, dict) else None
        if isinstance(url, str) and is_local_index(url):
            return f"the Pipfile's package source `{url}` is a folder"
    for section, table in pipfile.items():
        if section in ("source", "requires", "scripts", "pipenv") or not isinstance(table, dict):
            continue
        for name, spec in table.items():
            if isinstance(spec, dict) and ("path" in spec or str(spec.get("file", "")).startswith(("file:", ".", "/"))):
                return f"the Pipfile installs `{name}` from a path of the project"
    return None
