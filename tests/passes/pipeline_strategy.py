"""Hypothesis strategies for whole Dockerfiles that the passes have work to do on.

``tests/syntax/dockerfile_strategy.py`` stresses buildkit's line rules with random words; this
one writes Dockerfiles as people do, from the grammar, so that every pass fires and the
fixes meet each other:

* a byte-order mark, parser directives (``# syntax=``, ``# escape=`` with a backtick,
  ``# check=``), comments before the first stage, ``ARG`` before ``FROM``;
* stages: ``FROM`` with or without ``AS``, ``--platform``, an earlier stage or ``$ARG`` as base;
* instructions with flags (``RUN --mount``/``--network``, ``COPY --from``/``--chown``/``--link``),
  exec-form JSON (``RUN [...]``, ``CMD``, ``ENTRYPOINT``, ``SHELL``), ``ONBUILD``, ``ENV`` (both
  forms), ``ARG``, ``WORKDIR``, ``USER``, ``LABEL``, ``EXPOSE``, ``HEALTHCHECK``;
* RUN bodies built from real package-manager commands (apt-get/apt update, install, clean and
  the lists removed; apk add/del; yum/dnf/microdnf/zypper; pip/pip3/python -m pip with and
  without ``-r`` and ``--no-cache-dir``; npm/yarn/pnpm install/ci and their cache cleaning;
  gem, bundle, composer, conda/mamba) and shell (``cd``, ``set -e``, ``export``, ``if``, ``for``,
  subshells, brace groups, pipes, ``|| true``), joined by ``&&``, ``;`` or ``||``;
* layouts: one line, continuation lines with the operator leading or trailing, package lists
  over several lines, comment lines and blank lines inside continuations, a shell comment at
  the end, tabs;
* heredocs: ``RUN <<EOF`` scripts (with ``set -e``, comments, a ``#!`` line), ``RUN <<-EOF``
  with tab-indented bodies, ``RUN bash <<EOF``, ``RUN cat <<EOF > file``, ``COPY <<EOF``;
* LF, CRLF or mixed line endings (per line), with or without a final newline;
* RUNs shaped for the passes that meet each other: cleanup-only RUNs (SF501), small RUNs
  (SF502), ``apt-get update`` alone (SF101).

The build context is ``fixtures/fuzz-context`` (a Node and a Python project).

Everything it writes is a Dockerfile buildkit reads (no unterminated heredoc, no continuation
at the end of the file); a few inputs slimfile may still refuse are counted by the callers.
"""

from __future__ import annotations

from functools import lru_cache

from hypothesis import strategies as st


@lru_cache(maxsize=None)
def _sampled(options: tuple) -> st.SearchStrategy:
    return st.sampled_from(options)


def one_of(options) -> st.SearchStrategy:
    """``st.sampled_from``, built once per list of options: hypothesis validates every new
    strategy object, which made generating cost as much as fixing."""
    return _sampled(tuple(tuple(o) if isinstance(o, list) else o for o in options))


@lru_cache(maxsize=None)
def between(low: int, high: int) -> st.SearchStrategy:
    return st.integers(low, high)


@lru_cache(maxsize=None)
def coin() -> st.SearchStrategy:
    return st.booleans()

APT = [
    "apt-get update", "apt-get update -qq", "apt update", "apt-get -y update",
    "apt-get install -y curl", "apt-get install -y --no-install-recommends git ca-certificates",
    "apt-get install curl wget", "apt install -y python3-pip", "apt-get -qq install -y build-essential",
    "DEBIAN_FRONTEND=noninteractive apt-get install -y tzdata", "apt-get install -y gcc libc6-dev make",
    "apt-get upgrade -y", "apt-get dist-upgrade -y", "apt-get clean", "apt-get autoremove -y",
    "apt-get purge -y --auto-remove gcc", "rm -rf /var/lib/apt/lists/*",
    "rm -rf /var/lib/apt/lists/* /tmp/* /var/tmp/*", "rm -rf /var/cache/apt/archives/*.deb",
]
APK = [
    "apk update", "apk add curl", "apk add --no-cache curl", "apk add --virtual .build-deps gcc musl-dev",
    "apk add -U --no-cache git", "apk add --no-cache --virtual .deps make", "apk del .build-deps",
    "apk del .deps", "rm -rf /var/cache/apk/*", "apk upgrade",
]
RPM = [
    "yum install -y httpd", "yum -y install epel-release", "yum update -y", "yum clean all",
    "rm -rf /var/cache/yum", "dnf install -y gcc", "dnf install gcc make", "dnf clean all",
    "microdnf install -y shadow-utils", "microdnf clean all", "zypper install -y curl",
    "zypper --non-interactive in git", "zypper clean --all", "yum install httpd",
]
PYTHON = [
    "pip install flask", "pip install --no-cache-dir -r requirements.txt", "pip3 install -r requirements.txt",
    "python -m pip install --upgrade pip", "python3 -m pip install gunicorn==21.2", "pip install -e .",
    "pip cache purge", "rm -rf /root/.cache/pip", "pip install --user requests", "pip3 install --no-cache-dir numpy",
    "pip install -r requirements.txt -r dev.txt",
]
NODE = [
    "npm install", "npm ci", "npm ci --omit=dev", "npm install -g yarn", "npm run build", "npm cache clean --force",
    "yarn install --frozen-lockfile", "yarn install", "yarn cache clean", "pnpm install --frozen-lockfile",
    "pnpm install", "pnpm store prune", "npm ci && npm run build",
]
OTHERS = [
    "gem install bundler", "gem install rails --no-document", "bundle install", "composer install --no-dev",
    "composer install", "conda install -y numpy", "mamba install -y pandas", "conda clean -afy",
    "micromamba install -y -n base python=3.11",
]
SHELL = [
    "cd /app", "cd /tmp", "cd ..", "set -e", "set -eux", "export PATH=/opt/bin:$PATH",
    "export DEBIAN_FRONTEND=noninteractive", "mkdir -p /app", "make", "make install", "./configure --prefix=/usr",
    "curl -fsSL https://example.com/install.sh | sh", "wget -qO- https://example.com/x.tgz | tar xz -C /opt",
    "echo done", "true", "ln -s /usr/bin/python3 /usr/bin/python", "useradd -m app", "chown -R app /app",
    "rm -rf /tmp/*", "git clone https://github.com/x/y.git /src", "tar -xzf /tmp/x.tgz -C /opt", "cp -r /src /app",
    "ls -la", 'echo "a  b" > /etc/motd', "VERSION=1.2 make", "test -f /etc/os-release",
]
POOLS = [APT, APT, APK, RPM, PYTHON, NODE, OTHERS, SHELL, SHELL]
CLEANUPS = ["rm -rf /var/lib/apt/lists/*", "apt-get clean", "apt-get autoremove -y", "rm -rf /var/cache/apk/*",
            "apk del .build-deps", "yum clean all", "rm -rf /var/cache/yum", "dnf clean all", "npm cache clean --force",
            "yarn cache clean", "pip cache purge", "rm -rf /root/.cache/pip", "conda clean -afy", "rm -rf /tmp/*",
            "rm -rf /var/lib/apt/lists/* /var/cache/apt/*", "rm -rf /src/build"]

IMAGES = ["debian:bookworm", "ubuntu:22.04", "alpine:3.20", "python:3.12-slim", "node:20", "centos:7",
          "fedora:40", "ruby:3.3", "php:8.3-cli", "continuumio/miniconda3", "golang:1.22"]
PLATFORMS = ["--platform=$BUILDPLATFORM ", "--platform=linux/amd64 ", "--platform=$TARGETPLATFORM "]
STAGE_NAMES = ["build", "builder", "deps", "base", "runtime", "test"]
# ARG before the first FROM: its default and the FROM lines that use it
GLOBAL_ARGS = {
    "BASE": ("debian:bookworm", "$BASE", "${BASE}"),
    "PY_VERSION": ("3.12", "python:${PY_VERSION}-slim"),
    "NODE_VERSION": ("20", "node:${NODE_VERSION}"),
}


def keyword(draw, word: str) -> str:
    return draw(one_of([word, word, word, word.lower(), word.capitalize()]))


# -- shell --------------------------------------------------------------------------------------


def simple_command(draw) -> str:
    pool = draw(one_of(POOLS))
    command = draw(one_of(pool))
    if draw(between(0, 12)) == 0:
        command += " || true"
    return command


def shell_item(draw, depth: int = 0) -> str:
    """A command, or (rarely, not too deep) a compound of commands."""
    if depth >= 2 or draw(between(0, 7)) > 0:
        return simple_command(draw)
    inner = [shell_item(draw, depth + 1) for _ in range(draw(between(1, 2)))]
    body = draw(one_of([" && ", "; "])).join(inner)
    kind = draw(one_of(["subshell", "brace", "if", "for", "pipe", "not"]))
    if kind == "subshell":
        return f"({body})"
    if kind == "brace":
        return f"{{ {body}; }}"
    if kind == "if":
        condition = draw(one_of(["[ -f requirements.txt ]", "command -v apt-get", 'test -n "$CI"']))
        return f"if {condition}; then {body}; fi"
    if kind == "for":
        return f"for p in a b; do {body}; done"
    if kind == "not":
        return f"! {inner[0]}"
    return f"{inner[0]} | tee /tmp/log"


def shell_script(draw) -> list[str]:
    """[item, operator, item, ...]: what a RUN line holds."""
    parts = [shell_item(draw)]
    for _ in range(draw(between(0, 4))):
        parts.append(draw(one_of(["&&", "&&", "&&", "&&", ";", "||"])))
        parts.append(shell_item(draw))
    return parts


# -- physical lines -----------------------------------------------------------------------------


def laid_out(draw, head: str, parts: list[str], escape: str) -> list[str]:
    """``head`` (``RUN --flags``) and the script, as physical lines in one of the usual layouts."""
    layout = draw(one_of(["line", "line", "leading", "leading", "trailing", "words"]))
    indent = draw(one_of(["    ", "    ", "  ", "\t", "        "]))
    marker = draw(one_of([" " + escape, " " + escape, "  " + escape]))
    lines = [head + (parts[0] if layout != "words" or len(parts) > 1 else "")]
    if draw(between(0, 9)) == 0 and layout != "line":  # `RUN \` with the script below
        lines = [head.rstrip() + marker, indent + parts[0]]

    def extras() -> list[str]:
        found = []
        for _ in range(draw(between(0, 1)) if draw(between(0, 4)) == 0 else 0):
            found.append(draw(one_of([indent + "# a note", "# flush left", "", indent])))
        return found

    if layout == "words":  # a package list over several lines
        words = " ".join(parts).split(" ")
        lines = [head + " ".join(words[:3])]
        rest = words[3:]
        while rest:
            take = draw(between(1, 3))
            lines[-1] += marker
            lines.extend(extras())
            lines.append(indent * 2 + " ".join(rest[:take]))
            rest = rest[take:]
        return lines
    for op, item in zip(parts[1::2], parts[2::2]):
        if layout == "line":
            lines[-1] += f" {op} {item}"
        elif layout == "leading":
            lines[-1] += marker
            lines.extend(extras())
            lines.append(f"{indent}{op} {item}")
        else:
            lines[-1] += f" {op}{marker}"
            lines.extend(extras())
            lines.append(f"{indent}{item}")
    if draw(between(0, 15)) == 0:
        lines[-1] += " # done"
    if draw(between(0, 20)) == 0:
        lines[-1] += draw(one_of([" ", "\t", "  "]))  # trailing blanks
    return lines


# -- instructions ---------------------------------------------------------------------------------

RUN_FLAGS = ["--mount=type=cache,target=/var/cache/apt ", "--mount=type=cache,target=/root/.cache/pip ",
             "--mount=type=cache,target=/root/.npm ", "--network=host ", "--mount=type=bind,source=.,target=/src ",
             "--mount=type=tmpfs,target=/var/lib/apt/lists "]


def run_instruction(draw, escape: str) -> list[str]:
    flags = draw(one_of([""] * 8 + RUN_FLAGS))
    head = f"{keyword(draw, 'RUN')} {flags}"
    kind = draw(one_of(["shell"] * 8 + ["small"] * 4 + ["cleanup"] * 3 + ["update", "heredoc", "heredoc-dash",
                                                                             "heredoc-bash", "heredoc-data", "json"]))
    if kind == "json":
        argv = draw(one_of(['["apt-get", "install", "-y", "curl"]', '["pip", "install", "flask"]',
                                    '["/bin/sh", "-c", "npm ci"]', '["make"]']))
        return [head + argv]
    if kind.startswith("heredoc"):
        return heredoc_run(draw, head, kind)
    if kind == "update":  # what SF101 joins with the install after it
        return [head + draw(one_of(["apt-get update", "apt-get update -qq", "apt update"]))]
    if kind == "cleanup":  # what SF501 moves into the RUN that made the mess
        parts = [draw(one_of(CLEANUPS))]
        if draw(coin()):
            parts += [draw(one_of(["&&", "&&", ";"])), draw(one_of(CLEANUPS))]
        return laid_out(draw, head, parts, escape)
    if kind == "small":  # what SF502 merges
        parts = [simple_command(draw)]
        if draw(coin()):
            parts += [draw(one_of(["&&", "&&", ";"])), simple_command(draw)]
        return laid_out(draw, head, parts, escape)
    return laid_out(draw, head, shell_script(draw), escape)


def heredoc_run(draw, head: str, kind: str) -> list[str]:
    name = draw(one_of(["EOF", "EOT", "SCRIPT"]))
    statements = [" && ".join(simple_command(draw) for _ in range(draw(between(1, 2))))
                  for _ in range(draw(between(1, 4)))]
    if draw(coin()):
        statements.insert(0, "set -e")
    if draw(between(0, 3)) == 0:
        statements.insert(draw(between(0, len(statements))), "# a comment in the script")
    if kind == "heredoc-data":
        target = draw(one_of(["/etc/apt/apt.conf.d/99local", "/app/config.ini"]))
        body = [draw(one_of(["key = value", "# setting", 'APT::Install-Recommends "0";', ""]))
                for _ in range(draw(between(1, 3)))]
        return [f"{head}cat <<{name} > {target}", *body, name]
    if kind == "heredoc-dash":
        return [f"{head}<<-{name}", *("\t" + s for s in statements), "\t" + name]
    if kind == "heredoc-bash":
        return [f"{head}bash <<{name}" if draw(coin()) else f"{head}<<{name} bash", *statements, name]
    if draw(between(0, 4)) == 0:
        statements.insert(0, draw(one_of(["#!/bin/bash", "#!/bin/sh -e"])))
    quote = draw(one_of(["", "", "'", '"']))
    return [f"{head}<<{quote}{name}{quote}", *statements, name]


def copy_instruction(draw, stages: list[str]) -> list[str]:
    word = keyword(draw, draw(one_of(["COPY", "COPY", "ADD"])))
    flags = []
    if stages and draw(between(0, 3)) == 0:
        flags.append(f"--from={draw(one_of(stages))}")
    if draw(between(0, 4)) == 0:
        flags.append(draw(one_of(["--chown=app:app", "--chown=1000:1000", "--link", "--chmod=755"])))
    head = " ".join([word, *flags]) + " "
    if word.upper() == "COPY" and not flags[:1] == ["--from"] and draw(between(0, 6)) == 0:
        return [head + "<<EOF /etc/app.conf", "key=value", "# not a Dockerfile comment", "EOF"]
    return [head + draw(one_of([". .", ". /app", "requirements.txt .", "package.json package-lock.json ./",
                                         "src/ /app/src/", "app.py /app/", "https://example.com/x.tgz /tmp/"]))]


def other_instruction(draw, stages: list[str]) -> list[str]:
    kind = draw(one_of(["ENV", "ENV", "ARG", "WORKDIR", "WORKDIR", "USER", "LABEL", "EXPOSE", "CMD",
                                 "ENTRYPOINT", "SHELL", "ONBUILD", "HEALTHCHECK"]))
    word = keyword(draw, kind)
    value = {
        "ENV": ["PATH=/opt/venv/bin:$PATH", "PIP_NO_CACHE_DIR=1", "DEBIAN_FRONTEND=noninteractive", "NODE_ENV production",
                "A=1 B=2"],
        "ARG": ["VERSION=1.0", "TARGETARCH", "DEBIAN_FRONTEND=noninteractive"],
        "WORKDIR": ["/app", "/src", "/tmp"],
        "USER": ["app", "1000", "root"],
        "LABEL": ['maintainer="me@example.com"', "version=1"],
        "EXPOSE": ["8080", "80 443"],
        "CMD": ['["python", "app.py"]', "npm start", '["./server"]'],
        "ENTRYPOINT": ['["/entrypoint.sh"]', "/docker-entrypoint.sh"],
        "SHELL": ['["/bin/bash", "-o", "pipefail", "-c"]', '["/bin/sh", "-ec"]'],
        "ONBUILD": ["RUN pip install -r requirements.txt", "COPY . /app", "RUN npm ci && npm cache clean --force",
                    "RUN apt-get update && apt-get install -y curl"],
        "HEALTHCHECK": ["CMD curl -f http://localhost/ || exit 1", "NONE"],
    }[kind]
    return [f"{word} {draw(one_of(value))}"]


def from_line(draw, stages: list[str], global_args: list[str]) -> tuple[str, str | None]:
    bases = IMAGES + [form for a in global_args for form in GLOBAL_ARGS[a][1:]] + stages * 2
    base = draw(one_of(bases))
    platform = draw(one_of([""] * 6 + PLATFORMS))
    name = None
    if draw(between(0, 2)) > 0:
        free = [n for n in STAGE_NAMES if n not in stages]
        if free:
            name = draw(one_of(free))
    line = f"{keyword(draw, 'FROM')} {platform}{base}"
    if name:
        line += f" {draw(one_of(['AS', 'AS', 'as']))} {name}"
    return line, name


# -- files ------------------------------------------------------------------------------------------


@st.composite
def pipeline_dockerfiles(draw) -> bytes:
    escape = draw(one_of(["\\"] * 7 + ["`"]))
    lines: list[str] = []
    if draw(between(0, 3)) == 0:
        lines.append("# syntax=docker/dockerfile:1")
    if escape == "`":
        lines.append(draw(one_of(["# escape=`", "#escape=`"])))
    elif draw(between(0, 12)) == 0:
        lines.append("# escape=\\")
    if draw(between(0, 12)) == 0:
        lines.append("# check=skip=JSONArgsRecommended")
    if draw(between(0, 4)) == 0:
        lines.append(draw(one_of(["# Build the app", "", "# Dockerfile for the service"])))
    global_args: list[str] = []
    for _ in range(draw(between(0, 2)) if draw(between(0, 3)) == 0 else 0):
        name = draw(one_of(sorted(GLOBAL_ARGS)))
        if name not in global_args:
            global_args.append(name)
            lines.append(f"ARG {name}={GLOBAL_ARGS[name][0]}")
    stages: list[str] = []
    for _ in range(draw(between(1, 3))):
        line, name = from_line(draw, stages, global_args)
        lines.append(line)
        for _ in range(draw(between(1, 7))):
            block = draw(one_of(["run"] * 6 + ["copy", "other", "other", "comment", "blank"]))
            if block == "run":
                lines.extend(run_instruction(draw, escape))
            elif block == "copy":
                lines.extend(copy_instruction(draw, stages))
            elif block == "other":
                lines.extend(other_instruction(draw, stages))
            elif block == "comment":
                lines.append(draw(one_of(["# install the tools", "## section", "#", "  # indented"])))
            else:
                lines.append(draw(one_of(["", "", "  "])))
        if name:
            stages.append(name)
    return _encode(draw, lines)


def _encode(draw, lines: list[str]) -> bytes:
    style = draw(one_of(["lf", "lf", "lf", "crlf", "mixed"]))
    out = []
    for line in lines:
        eol = {"lf": "\n", "crlf": "\r\n"}.get(style) or draw(one_of(["\n", "\r\n"]))
        out.append(line + eol)
    text = "".join(out)
    if draw(between(0, 6)) == 0:
        text = text.rstrip("\r\n")
    bom = "\ufeff" if draw(between(0, 15)) == 0 else ""
    return (bom + text).encode("utf-8")
