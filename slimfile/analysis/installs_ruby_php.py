"""Ruby's ``bundle install`` and PHP's ``composer install``.

``bundle install`` reads the Gemfile (Ruby: it may name other files, ``ruby file:
".ruby-version"``, or read any file, ``eval_gemfile``, ``gemspec``), Gemfile.lock and the
project's ``.bundle/config``; it moves up whole. ``composer install`` reads composer.json,
composer.lock and auth.json, writes vendor/, then dumps the autoloader and runs the project's
scripts, which read the sources: its dependencies-only form ``--no-scripts --no-autoloader``
runs above the copy, and the original stays to do the rest. Local path gems and ``path``
repositories, plugins (they run during the install and may write anywhere) and a different
manifest name (``--gemfile``, ``--working-dir``; the variables ``BUNDLE_GEMFILE``, ``COMPOSER``,
listed in the data) are refused with the reason. The files and
paths are data (``data/dependency_installs.toml``).
"""

from __future__ import annotations

import posixpath

from slimfile.analysis.install_model import Install, InstallRequest, NotMovable
from slimfile.analysis.manifests import is_local_repository, read_gemfile
from slimfile.textformats import json_loads


def bundle_install(request: InstallRequest) -> Install | NotMovable:
    fact = request.fact
    if fact.packages:
        return request.refuse("`bundle install NAME` is not a project install")
    if fact.option("--gemfile"):  # BUNDLE_GEMFILE: env_files in data/dependency_installs.toml
        return request.refuse("the install reads another Gemfile (`--gemfile`)")
    gemfile = _first_sent(request, ("Gemfile", "gems.rb"))
    lockfile = "gems.locked" if gemfile == "gems.rb" else "Gemfile.lock"
    extra: list[str] = []
    if request.files is not None:
        if gemfile is None:
            return request.refuse("no Gemfile comes from the copy")
        source = request.context(gemfile)
        assert source is not None
        parsed = read_gemfile(request.files, source)
        if isinstance(parsed, str):
            return request.refuse(parsed)
        if parsed.gemspec:
            return request.refuse("the Gemfile's `gemspec` reads the project's gemspec, which may read any file")
        if parsed.local_paths:
            return request.refuse(f"the Gemfile installs a gem from the folder {parsed.local_paths[0]}")
        if parsed.dynamic:
            return request.refuse(f"the Gemfile runs `{parsed.dynamic[0]}`, which may read other files")
        missing = [name for name in parsed.reads if not request.sent(name)]
        if missing:
            return request.refuse(f"the Gemfile reads {missing[0]}, which the copy does not bring")
        extra = list(parsed.reads)
        problem = _gem_cache_problem(request)
        if problem:
            return problem
    remembered = [o.name for o in fact.options if o.name in request.spec["remembered_options"]]
    outputs = []
    install_path = _bundle_path(request)
    if install_path is not None:
        outputs.append(request.image(install_path))  # gems installed inside the project
    if remembered:
        if request.sent(".bundle"):
            return request.refuse(f"`{remembered[0]}` writes .bundle/config, which the copy brings too")
        outputs.append(request.image(".bundle"))
    return _install(request, [gemfile or "Gemfile"], lockfile, extra, outputs, prepare=None)


def _bundle_path(request: InstallRequest) -> str | None:
    """A folder of the project the gems go to: ``--path``, BUNDLE_PATH, or ``vendor/bundle``
    for a deployment install."""
    fact = request.fact
    path = (fact.option("--path").value if fact.option("--path") else None) or request.env.get("BUNDLE_PATH")
    if path is None and (fact.has("deployment") or request.env.get("BUNDLE_DEPLOYMENT") in ("1", "true")):
        path = "vendor/bundle"
    if path is None or path.startswith(("/", "$", "~")):
        return None
    return path


def composer_install(request: InstallRequest) -> Install | NotMovable:
    fact = request.fact
    if fact.packages or [w.value for w in fact.subcommand] not in (["install"], ["i"]):
        return request.refuse("only `composer install` reads nothing but the manifests")
    if fact.option("-d", "--working-dir"):  # COMPOSER: env_files in data/dependency_installs.toml
        return request.refuse("the install reads another composer.json (`--working-dir`)")
    vendor = "vendor"
    if request.files is not None:
        text = request.text("composer.json")
        if text is None:
            return request.refuse("composer.json does not come from the copy")
        try:
            data = json_loads(text)
        except ValueError as exc:
            return request.refuse(f"composer.json is not valid JSON ({exc})")
        if not isinstance(data, dict):  # composer refuses it too
            return request.refuse("composer.json is not a JSON object")
        problem = _composer_problem(data)
        if problem:
            return request.refuse(problem)
        config = data.get("config")
        vendor = config.get("vendor-dir", "vendor") if isinstance(config, dict) else "vendor"
        if not isinstance(vendor, str):
            return request.refuse("composer.json's `config.vendor-dir` is not a string")
        if vendor.startswith("/") or ".." in vendor.split("/") or "$" in vendor:
            return request.refuse(f"vendor-dir `{vendor}` is outside the project")
    deps_only = fact.has("no-scripts") and fact.has("no-autoloader")
    prepare = None
    if not deps_only:
        prepare = request.with_option(request.spec["prepare_option"])
        if prepare is None:
            return request.refuse("the command cannot be written again with `--no-scripts --no-autoloader`")
    return _install(request, ["composer.json"], "composer.lock", [], [request.image(vendor)], prepare=prepare)


def _composer_problem(data: dict) -> str | None:
    repositories = data.get("repositories", [])
    if not isinstance(repositories, (dict, list)):  # what it lists is not known (composer refuses it)
        return "composer.json's `repositories` is neither a list nor an object"
    entries = repositories.values() if isinstance(repositories, dict) else repositories
    for entry in entries:
        if isinstance(entry, dict) and entry.get("type") in ("path", "artifact"):
            return f"composer.json has a `{entry['type']}` repository ({entry.get('url', '')}), a folder of the project"
        local = _local_repository_url(entry) if isinstance(entry, dict) else None
        if local:
            return f"composer.json has a `{entry.get('type')}` repository read from a folder ({local})"
    found = data.get("config")
    config: dict = found if isinstance(found, dict) else {}
    for key in ("cafile", "capath"):
        value = config.get(key)
        if isinstance(value, str) and not value.startswith(("/", "$", "~")):  # a path of the project
            return f"composer.json's `config.{key}` reads {value}"
    plugins = config.get("allow-plugins")
    if plugins is True or (isinstance(plugins, dict) and any(v is True for v in plugins.values())):
        return "composer.json allows plugins, which run during the install and may write outside vendor/"
    extra = data.get("extra") if isinstance(data.get("extra"), dict) else {}
    if "installer-paths" in extra:
        return "extra.installer-paths installs packages outside vendor/"
    return None


def _local_repository_url(entry: dict) -> str | None:
    """A vcs/git/composer repository, or a `package` repository's dist or source, that Composer
    reads from a folder (``"url": "/app/repos/x"``, ``file:///...``, ``./dist/b.zip``)."""
    urls = [entry.get("url")]
    package = entry.get("package")
    for item in package if isinstance(package, list) else [package]:
        if isinstance(item, dict):
            urls.extend(part.get("url") for part in (item.get("dist"), item.get("source")) if isinstance(part, dict))
    return next((url for url in urls if isinstance(url, str) and is_local_repository(url)), None)


def _gem_cache_problem(request: InstallRequest) -> NotMovable | None:
    """``bundle install`` takes the gems cached in vendor/cache (or BUNDLE_CACHE_PATH) before
    any source, and ``--local`` takes only those: a cache the copy brings is an input that
    the install moved above the copy would not see (Bundler's "bundle cache" page)."""
    value = request.variable("BUNDLE_CACHE_PATH", "BUNDLE_CACHE_PATH names the gem cache, to a value not known here")
    if isinstance(value, NotMovable):
        return value
    folder = value or "vendor/cache"
    if request.sent(folder):
        return request.refuse(f"{folder} is in the build context (Bundler installs the gems cached there)")
    return None


def _first_sent(request: InstallRequest, names: tuple[str, ...]) -> str | None:
    return next((name for name in names if request.sent(name)), None)


def _install(
    request: InstallRequest, required: list[str], lockfile: str, extra: list[str], outputs: list[str], *, prepare: str | None
) -> Install | NotMovable:
    spec = request.spec
    outside = request.outside()
    if isinstance(outside, str):
        return request.refuse(outside)
    uses, writes = outside
    reads = [request.image(name) for name in required]
    if request.files is None:
        if request.fact.has("frozen-lockfile") or request.fact.has("deployment"):
            reads.append(request.image(lockfile))
    else:
        reads.extend(request.present([lockfile, *spec.get("optional", ()), *extra]))
        if not request.sent(lockfile):
            outputs = [*outputs, request.image(lockfile)]
    return Install(
        request.ecosystem,
        request.fact,
        tuple(dict.fromkeys(reads)),
        tuple(dict.fromkeys(posixpath.normpath(o) for o in outputs)),
        prepare=prepare,
        writes=writes,
        env=tuple(spec.get("env", ())),
        uses=uses,
    )
