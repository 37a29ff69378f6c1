"""Run the final image on the slim variant of its base image, when nothing in it needs the full one.

Before::

    FROM python:3.11
    WORKDIR /app
    COPY requirements.txt .
    RUN pip install --no-cache-dir -r requirements.txt
    COPY . .
    HEALTHCHECK CMD curl -f http://localhost:8000/health || exit 1
    CMD ["python", "app.py"]

After::

    FROM python:3.11-slim
    RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
    WORKDIR /app
    COPY requirements.txt .
    RUN pip install --no-cache-dir -r requirements.txt
    COPY . .
    HEALTHCHECK CMD curl -f http://localhost:8000/health || exit 1
    CMD ["python", "app.py"]

The full official images are buildpack-deps underneath: compilers, ``make``, ``git``, ``curl``,
``ssh`` and dozens of ``-dev`` headers, about 900 MB that an application rarely uses. The image
catalog (``slimfile/analysis/images.py``, ``data/images.toml``) knows each image's smaller
variant and what it lacks; the compatibility analysis (``slimfile/analysis/compat.py``) knows
what the stage, the stages built on it, and the running image use. Three outcomes:

* nothing the image uses is missing: the image word changes (``python:3.11`` ->
  ``python:3.11-slim``; tags keep what they pin, ``--platform``, ``AS`` and case stay);
* a few tools are missing (``curl`` for a HEALTHCHECK, ``git`` for a VCS requirement): they are
  added to the stage's own ``apt-get install`` before their first use, or to a new RUN right
  after the FROM, with ``--no-install-recommends`` and the lists removed;
* something the stage compiled with the base image's compiler and headers (a requirement
  without a wheel, the project's own C extension, a node-gyp addon, a gem with a C extension),
  a JDK program on a JRE, or a
  script slimfile cannot read: no swap, the finding says why and points to the multi-stage
  split (SF901), which keeps the compiler in a build stage.

On request (``--base-variant alpine`` or ``base-variant = "alpine"`` in the configuration)
SF802 proposes the Alpine variant instead, converting ``apt-get install`` RUNs to ``apk add``,
and refuses whenever musl or busybox could change the result.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from slimfile.analysis.compat import ONBUILD_ORDER, Install, Missing, Uses, Verdict, apk_names, assess, uses_of
from slimfile.analysis.context import Context
from slimfile.analysis.from_images import FromImage, final_chain, from_images, rewrite
from slimfile.analysis.images import CatalogImage, Counterpart, counterparts
from slimfile.diagnostics import Finding, Rule, Saving
from slimfile.restructure.stages import line
from slimfile.shell.model import ShellScript
from slimfile.syntax.edits import Edit, Fix, Safety
from slimfile.syntax.stages import Stage

SLIM_BASE_IMAGE = Rule(
    code="SF801",
    name="slim-base-image",
    summary="The final image is built on a full base image where its slim variant would do",
    fix_title="Use the slim (or JRE) variant of the base image, adding the few tools the stage uses",
    safety=Safety.UNSAFE,
    related=("OpenRewrite ChangeFrom (swaps without checking)", "dfc (maps to one vendor's images)"),
    doc="""
## What it does
Finds a final image built on the full variant of an official image (`python:3.11`,
`node:18-bookworm`, `ruby:3.2`, `rust:1`, `debian:bookworm`, `buildpack-deps:bookworm`,
`eclipse-temurin:17`, `openjdk:11`) and moves it to the smaller variant of the same image
(`python:3.11-slim`, `node:18-bookworm-slim`, `debian:bookworm-slim`, `eclipse-temurin:17-jre`),
when the stage, the stages built `FROM` it, their ONBUILD triggers and the running image's
HEALTHCHECK, CMD and ENTRYPOINT use nothing the smaller variant lacks. A few missing tools
(`curl` for a HEALTHCHECK, `git` for a VCS requirement, `unzip`) are installed in the stage;
a compiler or header the stage took from the full image stops the swap. The tag keeps what it
pins: `python:3.11.4` becomes `python:3.11.4-slim`, `python` becomes `python:slim`.

## Why is this bad?
The full images carry buildpack-deps: gcc, make, git, curl, ssh, ImageMagick and dozens of
`-dev` headers. `python:3.11` is about 1 GB, `python:3.11-slim` about 130 MB; `node:18` about
1.1 GB, `node:18-slim` about 220 MB. Every deploy pulls the difference, and every scanner
reports the vulnerabilities of tools the application never runs.

## Example
```dockerfile
FROM python:3.11
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
HEALTHCHECK CMD curl -f http://localhost:8000/ || exit 1
CMD ["python", "app.py"]
```

## Use instead
```dockerfile
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
HEALTHCHECK CMD curl -f http://localhost:8000/ || exit 1
CMD ["python", "app.py"]
```

## When it does not swap
- a build that compiles with the full image's compiler and headers: a requirement without a
  Linux wheel (`psycopg2`, `mysqlclient`, `uwsgi`, `python-ldap`, ...), `--no-binary`, a
  local project (`pip install .`, `-e .`, poetry's or uv's root package) whose build backend or
  `[build-system] requires` is a native-code tool (maturin, scikit-build-core, meson-python,
  Cython, pybind11, CFFI, ...) or that holds C, C++, Cython or Rust sources (setuptools'
  `ext_modules`), a node-gyp addon (a dependency with no prebuilt binary, `--build-from-source`,
  the project's own `binding.gyp`, a script that runs `node-gyp`), a gem with a native
  extension, `./configure`, `make`, `gcc`. An addon whose package holds prebuilt N-API
  binaries from some version on (microtime 3, ffi-napi 2.5, ref-napi 1.5.2:
  `[npm.bundled_prebuilds]` in data/native_builds.toml) compiles nothing at or past that
  version, the lockfile's or the lowest a package.json range allows; before it, or with a
  range slimfile cannot bound, it compiles. A multi-stage build keeps the compiler in a build
  stage and ships the slim variant (SF901 writes it: for Python also when pip compiles with
  the compiler and headers of the full image itself, for Node when the install compiles an
  addon); a stage that installs its own compiler keeps working and is swapped;
- a JDK program (`javac`, `jar`, `jlink`, `./mvnw`, `./gradlew`) on a JRE;
- a script the stage runs that slimfile cannot read (not in the build context);
- more than four packages to add: the stage relies on the full image;
- a digest-pinned reference (the slim image's digest is not known offline), or an ARG
  default used elsewhere: the finding names the image to use, nothing is edited.

Images without a smaller variant of the same distribution (golang, php, maven, gradle, ubuntu,
nginx, httpd) and images slimfile does not know are left alone. Only the stages the final
image is built from are swapped: a build stage's base does not ship.

## Fix safety
Always unsafe: the image's contents change. The analysis reads the Dockerfile, the scripts and
manifests of the build context, and a data list of packages that compile; a program the
application starts at run time from its own code (`subprocess.run(["git", ...])`) is not
visible to it. `slimfile verify --unsafe-fixes --run ...` builds both images and shows that the
rewrite builds, keeps the config and runs the same. The estimated saving uses typical sizes
from the image catalog (data/images.toml); verify measures the real one.
""",
)

ALPINE_BASE_IMAGE = Rule(
    code="SF802",
    name="alpine-base-image",
    summary="On request: the final image could be built on the Alpine variant of its base image",
    fix_title="Use the Alpine variant of the base image, with apt-get installs converted to apk",
    safety=Safety.UNSAFE,
    doc="""
## What it does
Only with `--base-variant alpine` (or `base-variant = "alpine"` under
`[tool.slimfile.preferences]`): moves the final image to the Alpine variant of its official
image (`python:3.11` -> `python:3.11-alpine`, `node:18-bookworm-slim` -> `node:18-alpine`,
`golang:1.21` -> `golang:1.21-alpine`, `nginx:1.25` -> `nginx:1.25-alpine`), converting every
`apt-get install` RUN of the stage to `apk add --no-cache` with the package names of
`data/apt_to_apk.toml`, and adding `bash` (or other tools busybox lacks) when the stage uses them.

## Why is this bad?
Alpine images are smaller still than slim ones (`python:3.11-alpine` about 55 MB). But Alpine
uses musl instead of glibc and busybox instead of GNU tools, which changes behaviour in ways a
build does not always show.

## Example
```dockerfile
FROM node:18
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
COPY . .
CMD ["node", "server.js"]
```

## Use instead
```dockerfile
FROM node:18-alpine
RUN apk add --no-cache curl
COPY . .
CMD ["node", "server.js"]
```

## When it does not swap
Whenever a musl caveat applies: a Python package with C code (its wheels are manylinux, for
glibc; pip would compile it on Alpine), a native Node addon (prebuilt binaries are for glibc),
cgo on golang's Alpine image (no C compiler), a downloaded release binary or tarball (usually
linked against glibc), changes to the resolver configuration (`/etc/nsswitch.conf`,
`/etc/resolv.conf`: musl resolves names differently), an `apt-get install` of a package the
apt -> apk map does not know, or a RUN that mixes `apt-get` with other commands. Everything
the slim swap refuses is refused too.

## Fix safety
Always unsafe, and never the default: `slim` is. DNS behaviour, locale data and performance
differ under musl even when everything builds. No Alpine image is available offline where
slimfile's tests run, so this rule is tested on its output only; prove a rewrite with
`slimfile verify --unsafe-fixes --run ...` on an engine that can pull Alpine images.
""",
)

RULES = (SLIM_BASE_IMAGE, ALPINE_BASE_IMAGE)

MODES = ("slim", "alpine", "none")
_APT_CLEANUP = ("/var/lib/apt/lists", "/var/cache/apt")


def base_variant(ctx: Context) -> str:
    """``slim`` (default), ``alpine`` or ``none``: the preference ``base-variant``."""
    value = ctx.option("base-variant", "slim")
    return value if value in MODES else "slim"


def check(ctx: Context) -> Iterator[Finding]:
    mode = base_variant(ctx)
    if mode == "none":
        return
    entries = from_images(ctx)
    for stage in final_chain(ctx):
        entry = entries[stage.index]
        if entry.kind != "image" or entry.image is None:
            continue
        if mode == "alpine":
            yield from _alpine(ctx, entry)
        yield from _slim(ctx, entry)


# -- SF801 --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """What SF801 decides for one stage: ``swap`` (nothing missing), ``swap+add`` (tools to
    install), ``refused`` (the verdict's blockers say why) or ``not-editable`` (the swap is
    sound but the reference cannot be rewritten: ``problem`` says why)."""

    outcome: str
    entry: FromImage
    candidate: Counterpart
    verdict: Verdict
    uses: Uses
    problem: str | None = None


def slim_decision(ctx: Context, entry: FromImage) -> Decision | None:
    """SF801's decision for a stage on an image the catalog knows; None when the image has no
    smaller variant (nothing to say). The corpus report (benchmarks/base_images.py) reads it."""
    image = entry.image
    if image is None:
        return None
    found, _reason = counterparts(image, "slim")
    if not found:
        return None
    uses = uses_of(ctx, entry.stage)
    verdicts = [(candidate, assess(uses, image, candidate.image)) for candidate in found]
    chosen = next(((c, v) for c, v in verdicts if v.ok), None)
    if chosen is None:
        candidate, verdict = _most_natural(verdicts)
        return Decision("refused", entry, candidate, verdict, uses)
    candidate, verdict = chosen
    edit = rewrite(entry, candidate.text)
    if isinstance(edit, str):
        return Decision("not-editable", entry, candidate, verdict, uses, edit)
    return Decision("swap+add" if verdict.add else "swap", entry, candidate, verdict, uses)


def _slim(ctx: Context, entry: FromImage) -> Iterator[Finding]:
    decision = slim_decision(ctx, entry)
    if decision is None:
        return
    candidate, verdict, uses = decision.candidate, decision.verdict, decision.uses
    if decision.outcome == "refused":
        yield _finding(ctx, SLIM_BASE_IMAGE, entry, _refusal(entry, candidate, verdict), None, None)
        return
    assert entry.image is not None
    saving = _saving(entry.image, candidate.image, verdict.add)
    message = _message(entry, candidate, verdict, uses)
    fix = _fix(ctx, SLIM_BASE_IMAGE, entry, candidate.text, verdict, uses, alpine=False)
    if isinstance(fix, str):
        yield _finding(ctx, SLIM_BASE_IMAGE, entry, f"{message}; not changed: {_short_problem(fix, candidate.text)}", None, saving)
        return
    yield _finding(ctx, SLIM_BASE_IMAGE, entry, message, fix, saving)


def _most_natural(verdicts: list[tuple[Counterpart, Verdict]]) -> tuple[Counterpart, Verdict]:
    """The counterpart a refusal talks about: the slim one of the same kind when there is one."""
    return next(((c, v) for c, v in verdicts if c.kind == "slim"), verdicts[0])


def _message(entry: FromImage, candidate: Counterpart, verdict: Verdict, uses: Uses) -> str:
    image = entry.image
    assert image is not None
    target = f"`{candidate.text}` ({_mb(candidate.image.size)})"
    if candidate.kind.startswith("jre"):
        text = f"`{image.text}` is a JDK ({_mb(image.size)}) and nothing here uses its JDK programs"
    else:
        text = f"`{image.text}` ({_mb(image.size)}) carries {image.carries}"
        text += f" of which the image uses {_count(len(verdict.add), 'package')}" if verdict.add else " nothing in this image uses"
    text += f": {target}"
    if verdict.add:
        text += f" with {', '.join(_added_reasons(verdict))}"
    text += " runs it"
    notes = list(uses.notes)
    if entry.binding is not None:
        notes.append(f"the default of ARG {entry.binding.name} changes; a build that passes --build-arg {entry.binding.name}=... keeps its choice")
    if _self_built(uses):
        notes.append("the stage installs its own compiler; SF901 would leave it in a build stage")
    if notes:
        text += " (" + "; ".join(notes) + ")"
    return text


def _self_built(uses: Uses) -> bool:
    """The stage compiles with a compiler it installs itself (the swap keeps that working)."""
    installed = {p for i in uses.installs for p in i.packages}
    return any(n.kind == "build" and set(n.packages) & installed for n in uses.needs)


def _added_reasons(verdict: Verdict) -> list[str]:
    """``curl (HEALTHCHECK (line 7) runs curl)``: each added package with its first reason."""
    first: dict[str, str] = {}
    for missing in sorted(verdict.missing, key=lambda m: m.need.order):
        for package in missing.packages:
            first.setdefault(package, missing.need.why)
    out = []
    for package in verdict.add:
        reason = first.get(package)
        out.append(f"{package} ({reason})" if reason else f"{package} (for HTTPS)" if package == "ca-certificates" else package)
    return out


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _refusal(entry: FromImage, candidate: Counterpart, verdict: Verdict) -> str:
    image = entry.image
    assert image is not None
    reasons = list(dict.fromkeys(_blocker(missing, candidate.text) for missing in verdict.blockers))  # each once
    more = f" (and {len(reasons) - 3} more)" if len(reasons) > 3 else ""
    text = f"`{image.text}` stays: {'; '.join(reasons[:3])}{more}"
    if any(m.need.kind == "build" for m in verdict.blockers):
        text += f"; a multi-stage build keeps the compiler in a build stage and ships `{candidate.text}` (SF901 says whether it can write it)"
    return text


def _blocker(missing: Missing, target: str) -> str:
    need = missing.need
    if not missing.packages:
        return need.why
    shown = _shown(missing.packages)
    if all(p.startswith("image:") for p in missing.packages):
        return f"{need.why}, which `{target}` does not have"
    if need.command and shown == [need.command]:
        return f"{need.why}, which `{target}` lacks"
    return f"{need.why}: needs {', '.join(shown)}, which `{target}` lacks"


def _short_problem(problem: str, target: str) -> str:
    if "pinned by digest" in problem:
        return f"the reference is pinned by digest; pin `{target}`'s digest instead (slimfile cannot look it up offline)"
    return problem


def _shown(packages: tuple[str, ...]) -> list[str]:
    return [p[len("image:") :] if p.startswith("image:") else p for p in packages]


# -- SF802 --------------------------------------------------------------------------------------------


def _alpine(ctx: Context, entry: FromImage) -> Iterator[Finding]:
    image = entry.image
    assert image is not None
    found, reason = counterparts(image, "alpine")
    if not found:
        return
    candidate = found[0]
    uses = uses_of(ctx, entry.stage)
    verdict = assess(uses, image, candidate.image, alpine=True)
    conversions = _apt_conversions(ctx, uses)
    problems = [m.need.why for m in verdict.blockers] + ([conversions] if isinstance(conversions, str) else [])
    if problems:
        text = f"`{image.text}` stays off Alpine: {'; '.join(problems[:3])}" + (f" (and {len(problems) - 3} more)" if len(problems) > 3 else "")
        yield _finding(ctx, ALPINE_BASE_IMAGE, entry, text, None, None)
        return
    assert not isinstance(conversions, str)
    message = f"`{image.text}` ({_mb(image.size)}) could run on `{candidate.text}` ({_mb(candidate.image.size)})"
    if conversions:
        message += f", with {len(conversions)} apt-get install{'s' if len(conversions) > 1 else ''} converted to apk"
    if verdict.add:
        message += f" and {', '.join(verdict.add)} added"
    message += " (musl and busybox: check DNS, locales and the tools' options with slimfile verify)"
    fix = _fix(ctx, ALPINE_BASE_IMAGE, entry, candidate.text, verdict, uses, alpine=True, conversions=conversions)
    saving = _saving(image, candidate.image, verdict.add)
    if isinstance(fix, str):
        yield _finding(ctx, ALPINE_BASE_IMAGE, entry, f"{message}; not changed: {fix}", None, saving)
        return
    yield _finding(ctx, ALPINE_BASE_IMAGE, entry, message, fix, saving)


def _apt_conversions(ctx: Context, uses: Uses) -> list[Edit] | str:
    """Every apt-get RUN of the stage family rewritten as ``apk add --no-cache``, or why not."""
    edits: list[Edit] = []
    seen: set[int] = set()
    table = apk_names()
    for install in uses.installs:
        if install.manager != "apt":
            continue
        node = install.instruction
        if node is None or id(node) in seen:
            if node is None:
                return f"line {install.line} runs a script that installs Debian packages"
            continue
        seen.add(id(node))
        script = ctx.shell(node)
        if not isinstance(script, ShellScript) or node.heredocs:
            return f"line {node.start_line} installs Debian packages in a way slimfile does not rewrite"
        other = [c.name for c in script.commands if c.name is not None and not _apt_only(c, script)]
        if other:
            return f"line {node.start_line} mixes apt-get with other commands ({', '.join(sorted(set(other))[:3])})"
        names = [w.value for f in script.packages if f.manager == "apt" and f.action == "install" for w in f.packages]
        unknown = sorted({n for n in names if n not in table})
        if unknown:
            return f"no Alpine package is known for {', '.join(unknown)} (data/apt_to_apk.toml)"
        mapped = sorted({table[n] for n in names if table[n]})
        text = f"apk add --no-cache {' '.join(mapped)}" if mapped else "true"
        start, end = node.args_source_span()
        edits.append(Edit(start, end, text.encode()))
    return edits


def _apt_only(command, script: ShellScript) -> bool:
    if command.name in ("apt-get", "apt", "apt-mark"):
        return True
    if command.name == "rm":
        return all(w.value.startswith(_APT_CLEANUP) or w.value.startswith("-") for w in command.arg_words)
    return command.name in ("set", "export") or command.name is None


# -- the fix ---------------------------------------------------------------------------------------------


def _fix(
    ctx: Context, rule: Rule, entry: FromImage, target: str, verdict: Verdict, uses: Uses, *, alpine: bool, conversions: list[Edit] | None = None
) -> Fix | str:
    swap = rewrite(entry, target)
    if isinstance(swap, str):
        return swap
    edits = [swap, *(conversions or [])]
    new_runs = 0
    if verdict.add:
        conversions = list(conversions or [])
        edit, new_runs = _additions(ctx, entry, verdict, uses, alpine, conversions)
        edits = [swap, *conversions] + ([edit] if edit is not None else [])
    declares = {"base-image", "packages"}
    if entry.binding is not None:
        declares.add("global-args")
    try:
        return Fix(tuple(edits), Safety.UNSAFE, rule.fix_title, frozenset(declares), runs_removed=-new_runs)
    except ValueError as exc:
        return f"the edits would overlap ({exc})"


def _additions(ctx: Context, entry: FromImage, verdict: Verdict, uses: Uses, alpine: bool, conversions: list[Edit]) -> tuple[Edit | None, int]:
    """The packages the target lacks, added to the stage's own install before their first use,
    or to a new RUN right after the FROM. On Alpine an apt install is being converted: the
    packages join its ``apk add`` (``conversions`` is changed in place)."""
    names = " ".join(verdict.add)
    first_use = min(m.need.order for m in verdict.missing)
    install = _install_before(uses, entry.stage, first_use)
    if install is not None and install.instruction is not None:
        if not alpine or install.manager == "apk":
            return Edit.insert(install.fact.packages[-1].end, f" {names}".encode()), 0
        start, end = install.instruction.args_source_span()
        for i, edit in enumerate(conversions):
            if (edit.start, edit.end) == (start, end):
                conversions[i] = Edit(start, end, edit.content + f" {names}".encode())
                return None, 0
    from_node = entry.stage.from_instruction
    text = f"apk add --no-cache {names}" if alpine else (
        f"apt-get update && apt-get install -y --no-install-recommends {names} && rm -rf /var/lib/apt/lists/*"
    )
    new = line(ctx.dockerfile, from_node, "RUN", text)
    source = ctx.dockerfile.source
    if from_node.end == len(source) and not source.endswith((b"\n", b"\r")):
        new = ctx.dockerfile.newline + new.rstrip(b"\r\n")
    return Edit.insert(from_node.end, new), 1


def _install_before(uses: Uses, stage: Stage, order: int) -> Install | None:
    """The root stage's first package install that runs before ``order`` in a RUN of its own
    and names its packages plainly: more packages can join it."""
    for install in uses.installs:
        if install.stage != stage.index or install.order >= min(order, ONBUILD_ORDER) or install.instruction is None:
            continue
        if install.instruction.name != "RUN" or not install.fact.packages or not all(w.static for w in install.fact.packages):
            continue
        return install
    return None


# -- findings --------------------------------------------------------------------------------------------


def _finding(ctx: Context, rule: Rule, entry: FromImage, message: str, fix: Fix | None, saving: Saving | None) -> Finding:
    if entry.word is not None and entry.binding is None:
        start, end = entry.word
    else:
        start, end = entry.stage.from_instruction.keyword_source_span()
    return Finding(rule, message, start, end, fix, saving)


def _saving(source: CatalogImage, target: CatalogImage, added: tuple[str, ...]) -> Saving | None:
    if source.size is None or target.size is None:
        return None
    saved = max(source.size - target.size, 0)
    basis = f"typical sizes: {source.text} {_mb(source.size)}, {target.text} {_mb(target.size)} (data/images.toml)"
    if added:
        basis += f"; before adding {', '.join(added)}"
    return Saving(f"~{saved / 1e6:.0f} MB", basis, saved)


def _mb(size: int | None) -> str:
    return "size unknown" if size is None else f"~{size / 1e6:.0f} MB"


__all__ = ["RULES", "check", "base_variant", "Missing"]
