"""Scaling benchmark: does the cost per line stay flat as a Dockerfile grows?

For each *shape* of generated Dockerfile (many small RUNs, one RUN with n continuation lines,
a large heredoc, a long word, deep nesting, many stages, ...) at 1k, 10k and 100k lines, it
times ``slimfile parse --json``, ``slimfile check`` and ``slimfile fix --diff`` and prints the
CPU time, the time per line and the ratios 10k/1k and 100k/10k. Linear cost means a ratio near
10; a ratio above 12 is flagged with ``!``. A shape whose run went over ``--timeout`` is shown
as ``>T`` and its larger sizes are skipped.

How a command runs: by default each measurement is a fresh ``python`` process that calls the
CLI's own entry point (``slimfile.cli.entry``, argument parsing included, output sent to
``/dev/null``) once on a one-line file to load every module, then times the real call with
``time.process_time``: the figure is the command's CPU time without interpreter start-up.
``--mode cli`` runs ``python -m slimfile ...`` instead and takes the child's CPU time from
``rusage`` (start-up included, about 0.3 s).

Then the size-limit check: for each shape, the biggest file that fits in the 4 MiB input
limit, and the time each command takes on it (``--no-limit`` skips it).

    python benchmarks/scaling.py [--sizes 1000,10000,100000] [--shapes small-runs,heredoc]
                                 [--commands check,fix] [--repeat N] [--timeout S] [--no-limit] [--file-budget none]
    python benchmarks/scaling.py --list     # the shapes and what they are

Results are recorded in docs/benchmarks.md (section "Scaling").
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
MAX_BYTES = 4 * 1024 * 1024  # slimfile.files.MAX_BYTES (not imported: the parent stays light)
FLAG_RATIO = 12.0
BUDGET: str | None = None  # --file-budget

COMMANDS = {
    "parse": ["parse", "--json"],
    "check": ["check", "--isolated"],
    "fix": ["fix", "--diff", "--isolated"],
    "unsafe": ["fix", "--diff", "--isolated", "--unsafe-fixes"],
}


# -- shapes: n -> a Dockerfile of about n lines ------------------------------------------------

def _lines(head: list[str], body: Callable[[int], str], n: int, tail: list[str] = ()) -> bytes:
    count = max(n - len(head) - len(tail), 1)
    return ("\n".join([*head, *(body(i) for i in range(count)), *tail]) + "\n").encode()


def small_runs(n: int) -> bytes:
    return _lines(["FROM debian:12"], lambda i: f"RUN echo {i}", n)


def continuation(n: int) -> bytes:
    return _lines(["FROM debian:12", "RUN echo start \\"], lambda i: f"    && echo {i} \\", n, ["    && echo end"])


def comments_in_continuation(n: int) -> bytes:
    body = lambda i: f"    # step {i // 2}" if i % 2 else f"    && echo {i} \\"  # noqa: E731
    return _lines(["FROM debian:12", "RUN echo start \\"], body, n, ["    && echo end"])


def apt_chain(n: int) -> bytes:
    head = ["FROM debian:12", "RUN apt-get update \\"]
    return _lines(head, lambda i: f"    && apt-get install -y pkg{i} \\", n, ["    && echo done"])


def apt_runs(n: int) -> bytes:
    body = lambda i: f"RUN apt-get update && apt-get install -y pkg{i // 2}" if i % 2 == 0 else "RUN rm -rf /var/lib/apt/lists/*"  # noqa: E731
    return _lines(["FROM debian:12"], body, n)


def apt_install_runs(n: int) -> bytes:
    """Installs that rely on the lists of one update at the top (SF106 asks about every earlier RUN)."""
    return _lines(["FROM debian:12", "RUN apt-get update"], lambda i: f"RUN apt-get install -y pkg{i}", n)


def apt_stages(n: int) -> bytes:
    """Independent stages, each fetching lists and installing (SF105 looks for later installs)."""
    body = lambda i: f"FROM debian:12 AS s{i // 3}" if i % 3 == 0 else ("RUN apt-get update && apt-get install -y x" if i % 3 == 1 else "RUN echo y")  # noqa: E731
    return _lines([], body, n)


def rm_runs(n: int) -> bytes:
    """Cleanup RUNs of paths no earlier RUN mentions (SF501 looks back for their maker)."""
    return _lines(["FROM debian:12"], lambda i: f"RUN rm -rf /opt/build{i}", n)


def cleanup_chain(n: int) -> bytes:
    """A cleanup-only RUN of n cache removals after the RUN that wrote the cache (SF501 asks
    what each of its commands removes)."""
    head = ["FROM debian:12", "RUN apt-get update && apt-get install -y curl", "RUN rm -rf /var/lib/apt/lists/start \\"]
    return _lines(head, lambda i: f"    && rm -rf /var/lib/apt/lists/x{i} \\", n, ["    && rm -rf /var/lib/apt/lists/end"])


def pip_env(n: int) -> bytes:
    """ENV lines and pip installs, alternating (SF401 reads PIP_NO_CACHE_DIR at every install)."""
    body = lambda i: f"ENV V{i}=x" if i % 2 else f"RUN pip install pkg{i}"  # noqa: E731
    return _lines(["FROM python:3.12"], body, n)


def apk_build(n: int) -> bytes:
    """Build-only apk installs, each used in its RUN (SF202 asks whether a later RUN builds)."""
    return _lines(["FROM alpine:3.20"], lambda i: f"RUN apk add gcc musl-dev && gcc -o /x{i} x.c", n)


def backquote_comments(n: int) -> bytes:
    """One RUN listing packages, each annotated with a backquoted comment."""
    body = lambda i: f"    pkg{i} `# needed by {i}` \\"  # noqa: E731
    return _lines(["FROM debian:12", "RUN apt-get install -y \\"], body, n, ["    end"])


def heredoc_words(n: int) -> bytes:
    """One RUN line with n/2 heredoc words (non-ASCII), each with its one-line body."""
    count = max(n // 2 - 1, 1)
    line = "RUN cat " + " ".join(f"<<É{i:06d}" for i in range(count))  # fixed width: linear size
    bodies = "".join(f"é\nÉ{i:06d}\n" for i in range(count))
    return f"FROM debian:12\n{line}\n{bodies}".encode()


def findings_on_one_line(n: int) -> bytes:
    """n apt installs without -y on one physical line: n findings whose columns are counted
    on a line of non-ASCII text."""
    return ("FROM debian:12\nRUN " + " && ".join(f"apt-get install pkg{i} é" for i in range(n)) + "\n").encode()


def variable_image(n: int) -> bytes:
    """A FROM whose image is n variables (the reference is split outside variables)."""
    return ("ARG A=x\nFROM " + "$A" * (5 * n) + ":tag\nRUN echo\n").encode()


def long_line(n: int) -> bytes:
    """One physical line with n commands: ``RUN echo 0 && echo 1 && ...``."""
    return ("FROM debian:12\nRUN " + " && ".join(f"echo {i}" for i in range(n)) + "\n").encode()


def heredoc(n: int) -> bytes:
    return _lines(["FROM debian:12", "RUN <<EOF"], lambda i: f"echo line {i}", n, ["EOF"])


def many_heredocs(n: int) -> bytes:
    body = lambda i: ("RUN <<EOF", f"echo {i}", "EOF")[i % 3]  # noqa: E731
    return _lines(["FROM debian:12"], body, n - (n - 1) % 3)


def long_word(n: int) -> bytes:
    """A single word of 10 bytes per 'line' (100k lines: a 1 MB word)."""
    return b"FROM debian:12\nRUN echo " + b"a" * (10 * n) + b"\n"


def unclosed_quote(n: int) -> bytes:
    """A long word after an unclosed quote (regexes that backtrack blow up here)."""
    return b"FROM debian:12\nRUN echo \"" + b"ab\\" * (3 * n) + b"\n"


def nested_subshells(n: int) -> bytes:
    half = max(n // 2 - 1, 1)
    opens = ["  ( \\"] * half
    closes = ["  ) \\"] * (half - 1) + ["  )"]
    return ("\n".join(["FROM debian:12", "RUN echo a && \\", *opens, "  echo deep \\", *closes]) + "\n").encode()


def nested_quotes(n: int) -> bytes:
    """Command substitutions inside double quotes, nested n/2 deep, one level per line."""
    half = max(n // 2 - 1, 1)
    opens = ['  "$(echo \\'] * half
    closes = ['  )" \\'] * (half - 1) + ['  )"']
    return ("\n".join(["FROM debian:12", "RUN echo \\", *opens, "  x \\", *closes]) + "\n").encode()


def nested_runs(n: int) -> bytes:
    """RUNs nested 20 deep each (subshells and command substitutions in quotes), one after
    another: the work per RUN grows with its depth, the number of RUNs with the file."""
    depth = 20
    run = ["RUN ( \\"] + ['  "$(echo \\'] * depth + ["  x \\"] + ['  )" \\'] * depth + ["  )"]
    body = lambda i: run[i % len(run)]  # noqa: E731
    return _lines(["FROM debian:12"], body, n - (n - 1) % len(run))


def many_stages(n: int) -> bytes:
    def body(i: int) -> str:
        stage = i // 3
        if i % 3 == 0:
            return f"FROM debian:12 AS s{stage}" if stage == 0 else f"FROM s{stage - 1} AS s{stage}"
        if i % 3 == 1:
            return f"COPY --from=s{max(stage - 1, 0)} /a{stage} /a{stage}"
        return f"RUN echo {stage}"

    return _lines([], body, n)


def args_envs(n: int) -> bytes:
    globals_ = [f"ARG G{i}=v{i}" for i in range(n // 4)]
    body = lambda i: f"ARG A{i}=v{i}" if i % 2 else f"ENV E{i}=v{i}"  # noqa: E731
    return _lines([*globals_, "FROM debian:12"], body, n)


def env_continuation(n: int) -> bytes:
    return _lines(["FROM debian:12", "ENV A=0 \\"], lambda i: f"    K{i}=v{i} \\", n, ["    Z=1"])


def copy_lines(n: int) -> bytes:
    return _lines(["FROM debian:12"], lambda i: f"COPY src{i} /app/src{i}", n)


def add_lines(n: int) -> bytes:
    return _lines(["FROM debian:12"], lambda i: f"ADD src{i}.txt /app/", n)


def suppressed_runs(n: int) -> bytes:
    body = lambda i: "# slimfile: ignore[SF502]" if i % 2 == 0 else f"RUN echo {i}"  # noqa: E731
    return _lines(["FROM debian:12"], body, n)


def onbuild_runs(n: int) -> bytes:
    return _lines(["FROM debian:12"], lambda i: f"ONBUILD RUN echo {i}", n)


def comments(n: int) -> bytes:
    body = lambda i: f"# comment {i}" if i % 10 else f"RUN echo {i}"  # noqa: E731
    return _lines(["FROM debian:12"], body, n)


def json_array(n: int) -> bytes:
    return _lines(['FROM debian:12', 'RUN ["echo", \\'], lambda i: f'    "a{i}", \\', n, ['    "end"]'])


def crlf_runs(n: int) -> bytes:
    return small_runs(n).replace(b"\n", b"\r\n")


def context_copies(n: int) -> bytes:
    def stage(k: int) -> list[str]:
        return [
            f"FROM python:3.12-slim AS s{k}",
            "WORKDIR /app",
            f"COPY pkg{k}/*.py ./pkg{k}/",
            "COPY . .",
            f"RUN python -m compileall -q pkg{k} && cat /app/pkg{k}/conf.txt && rm -rf /var/lib/apt/lists/* /app/build/*",
        ]

    return ("\n".join(line for k in range(max(n // 5, 1)) for line in stage(k)) + "\n").encode()


def context_copies_tree(directory: Path, n: int) -> None:
    """The build context of ``context_copies``: a package per stage (sources, a file a RUN
    reads, bytecode), and the usual candidates of a .dockerignore."""
    files = {".git/HEAD": "ref: refs/heads/main\n", ".env": "API_KEY=x\n", "build/out.txt": "x\n"}
    for k in range(max(n // 5, 1)):
        files.update({f"pkg{k}/__init__.py": "", f"pkg{k}/mod.py": "x = 1\n", f"pkg{k}/conf.txt": "a\n", f"pkg{k}/__pycache__/mod.cpython-312.pyc": "b"})
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def env_path(n: int) -> bytes:
    """``ENV PATH=/binK:$PATH`` n times: each value holds all the ones before (kept in full, the
    values of 40,000 lines took 6 GB; past the expansion budget they are unknown)."""
    return _lines(["FROM debian:12"], lambda i: f"ENV PATH=/bin{i}:$PATH", n, ["RUN ls"])


def workdir_chain(n: int) -> bytes:
    """``WORKDIR dK`` and a RUN, alternating: each WORKDIR goes one folder deeper (the working
    directory of each step, kept in full, grew at every line; past PATH_MAX it is unknown)."""
    return _lines(["FROM debian:12"], lambda i: f"WORKDIR d{i // 2}" if i % 2 == 0 else f"RUN echo {i}", n)


def arg_images(n: int) -> bytes:
    """n/2 global ARGs naming images, then a stage FROM each (the base-image pass looks up the
    ARG declaring each reference)."""
    half = max(n // 2, 1)
    return ("\n".join([*(f"ARG V{i}=debian:12" for i in range(half)), *(f"FROM $V{i} AS s{i}" for i in range(half))]) + "\n").encode()


def context_installs(n: int) -> bytes:
    """``COPY package.json package-lock.json ./`` and ``RUN npm install``, alternating: every
    install reads the manifests the COPY before it brought (SF702, the base-image analysis)."""
    body = lambda i: "COPY package.json package-lock.json ./" if i % 2 == 0 else "RUN npm install"  # noqa: E731
    return _lines(["FROM node:20", "WORKDIR /app"], body, n)


def context_installs_tree(directory: Path, n: int) -> None:
    """The build context of ``context_installs``: one npm project with its lockfile."""
    (directory / "package.json").write_text('{"name": "app", "version": "1.0.0", "dependencies": {"ms": "^2.1.3"}}\n')
    (directory / "package-lock.json").write_text(
        '{"name": "app", "lockfileVersion": 3, "packages": {"": {"name": "app", "dependencies": {"ms": "^2.1.3"}},'
        ' "node_modules/ms": {"version": "2.1.3"}}}\n'
    )


def context_scripts(n: int) -> bytes:
    """``COPY . .`` and ``RUN ./sK.sh``, alternating: each RUN runs another script the copies
    bring (the base-image analysis reads every script a RUN runs)."""
    body = lambda i: "COPY . ." if i % 2 == 0 else f"RUN ./s{i // 2}.sh"  # noqa: E731
    return _lines(["FROM debian:12", "WORKDIR /app"], body, n)


def context_scripts_tree(directory: Path, n: int) -> None:
    """The build context of ``context_scripts``: one script per RUN."""
    for k in range(max(n // 2, 1)):
        (directory / f"s{k}.sh").write_text("#!/bin/sh\necho hi\n")


def context_chain(n: int) -> bytes:
    """n/3 stages, each FROM the one before, copying requirements.txt and installing it (each
    install asks where the file came from, along a lineage as long as the file)."""
    body = lambda i: f"FROM s{i // 3 - 1} AS s{i // 3}" if i % 3 == 0 else ("COPY requirements.txt ./" if i % 3 == 1 else "RUN pip install -r requirements.txt")  # noqa: E731
    return _lines(["FROM python:3.12 AS s-1", "WORKDIR /app"], body, n)


def context_chain_tree(directory: Path, n: int) -> None:
    (directory / "requirements.txt").write_text("flask\n")


def moves_past_env(n: int) -> bytes:
    """``COPY . .``, then ``RUN pip install pK`` and ``ENV VK=K``, alternating: every install
    moves above the copy and every ENV stays (no moved RUN reads it), so each move passes
    all the ENV lines before it (each was tried, one by one)."""
    head = ["FROM python:3.12", "WORKDIR /app", "COPY . ."]
    return _lines(head, lambda i: f"RUN pip install p{i // 2}" if i % 2 == 0 else f"ENV V{i // 2}={i}", n)


def moves_past_env_tree(directory: Path, n: int) -> None:
    (directory / "app.py").write_text("print(1)\n")


def moves_past_writes(n: int) -> bytes:
    """``COPY . .``, then ``RUN cat /app/x > /usr/lib/fK`` (stays: it reads the sources) and
    ``RUN pip install pK`` (moves), alternating: every install, which writes
    ``/usr/lib/python3*``, passes all the files written before it."""
    head = ["FROM python:3.12", "WORKDIR /app", "COPY . ."]
    return _lines(head, lambda i: f"RUN cat /app/x > /usr/lib/f{i // 2}" if i % 2 == 0 else f"RUN pip install p{i // 2}", n)


def moves_past_writes_tree(directory: Path, n: int) -> None:
    (directory / "x").write_text("x\n")


def context_npm_scripts(n: int) -> bytes:
    """``RUN npm run buildK`` n times after ``COPY . .`` and ``npm ci``, over a package.json
    with a script per RUN (each RUN read the scripts again, and parsed package.json again)."""
    head = ["FROM node:20", "WORKDIR /app", "COPY . .", "RUN npm ci"]
    return _lines(head, lambda i: f"RUN npm run build{i}", n, ['CMD ["node", "index.js"]'])


def context_npm_scripts_tree(directory: Path, n: int) -> None:
    scripts = {f"build{i}": f"node build.js {i}" for i in range(max(n - 5, 1))}
    package = {"name": "app", "version": "1.0.0", "scripts": scripts, "dependencies": {}}
    (directory / "package.json").write_text(json.dumps(package, indent=2) + "\n")
    lock = {"name": "app", "version": "1.0.0", "lockfileVersion": 3, "packages": {"": {"name": "app", "version": "1.0.0"}}}
    (directory / "package-lock.json").write_text(json.dumps(lock, indent=2) + "\n")
    (directory / "index.js").write_text("console.log(1)\n")
    (directory / "build.js").write_text("console.log(process.argv[2])\n")


def workspace_installs(n: int) -> bytes:
    """``COPY . .``, then ``RUN npm install`` and ``RUN echo K > /tmp/fK``, alternating, in a
    project of n/2 workspace members: every install reads every member's package.json (n/2
    installs of n/2 members listed, checked and copied each member again: 2,000 of each, over
    60 s)."""
    head = ["FROM node:20", "WORKDIR /app", "COPY . ."]
    return _lines(head, lambda i: "RUN npm install" if i % 2 == 0 else f"RUN echo {i} > /tmp/f{i}", n, ['CMD ["node", "index.js"]'])


def workspace_installs_tree(directory: Path, n: int) -> None:
    (directory / "package.json").write_text('{"name": "root", "version": "1.0.0", "workspaces": ["packages/*"]}\n')
    for i in range(max(n // 2, 1)):
        member = directory / "packages" / f"p{i}"
        member.mkdir(parents=True, exist_ok=True)
        (member / "package.json").write_text(f'{{"name": "p{i}", "version": "1.0.0"}}\n')


def env_npm_runs(n: int) -> bytes:
    """n/2 ENV lines, then one RUN of n/2 ``npm run build``: the Node recipe copied the
    stage's whole environment for every command it expanded."""
    half = max(n // 2, 1)
    head = ["FROM node:20", "WORKDIR /app", "COPY . .", "RUN npm ci", *(f"ENV V{i}={i}" for i in range(half))]
    return _lines(head, lambda i: "RUN " + " && ".join(["npm run build"] * half), len(head) + 2, ['CMD ["node", "dist/index.js"]'])


def export_installs(n: int) -> bytes:
    """One RUN of n continuation lines, each ``export VK=K && pip install pK``: every package
    fact copied every export before it (8,000 lines: 29 s)."""
    head = ["FROM python:3.11", "RUN true \\"]
    return _lines(head, lambda i: f"    && export V{i}={i} && pip install p{i} \\", n, ["    && true"])


def env_npm_installs(n: int) -> bytes:
    """n/2 ENV lines, then n/2 ``RUN npm install pK``: each install looked for
    npm_config_build_from_source through every variable of the stage (16,000 lines: 29 s)."""
    half = max(n // 2, 1)
    head = ["FROM node:20", "WORKDIR /app", *(f"ENV V{i}={i}" for i in range(half))]
    return _lines(head, lambda i: f"RUN npm install p{i}", n)


def env_npm_assignments(n: int) -> bytes:
    """n/2 ENV lines, then n/2 ``RUN X=1 npm run build``: the Node recipe copied the stage's
    variables for every command that sets one of its own (8,000 lines: 9.6 s)."""
    half = max(n // 2, 1)
    head = ["FROM node:20", "WORKDIR /app", "COPY . .", "RUN npm ci", *(f"ENV V{i}={i}" for i in range(half))]
    return _lines(head, lambda i: "RUN X=1 npm run build", n, ['CMD ["node", "dist/index.js"]'])


def cargo_builds(n: int) -> bytes:
    """n/2 ``COPY fK.txt /srv/fK.txt``, then n/2 ``RUN cargo build --release`` over a crate: the
    Rust recipe scanned every earlier step for the copy of each build's folder, and every
    artefact for each runtime copy (4,000 lines: 4.9 s)."""
    half = max(n // 2, 1)
    head = ["FROM rust:1", "WORKDIR /app", *(f"COPY f{i % 5}.txt /srv/f{i}.txt" for i in range(half)), "COPY . ."]
    return _lines(head, lambda i: "RUN cargo build --release", n, ['CMD ["/app/target/release/x"]'])


def cargo_builds_tree(directory: Path, n: int) -> None:
    for k in range(5):
        (directory / f"f{k}.txt").write_text("x\n")
    (directory / "Cargo.toml").write_text('[package]\nname = "x"\nversion = "0.1.0"\n')
    (directory / "src").mkdir(exist_ok=True)
    (directory / "src" / "main.rs").write_text("fn main() {}\n")


def yarn_installs(n: int) -> bytes:
    """n/2 LABEL lines, ``COPY . .``, then n/2 ``RUN yarn install``: which lockfile each install
    sees walked back over every step before it (4,000 lines: `fix --diff` 5.0 s, x2.9 per
    doubling)."""
    half = max(n // 2, 1)
    head = ["FROM node:20", "WORKDIR /app", *(f"LABEL l{i}={i}" for i in range(half)), "COPY . ."]
    return _lines(head, lambda i: "RUN yarn install", n, ['CMD ["node", "index.js"]'])


def yarn_installs_tree(directory: Path, n: int) -> None:
    (directory / "package.json").write_text('{"name": "app", "version": "1.0.0"}\n')
    (directory / "package-lock.json").write_text('{"name": "app", "lockfileVersion": 3, "packages": {"": {"name": "app"}}}\n')
    (directory / "index.js").write_text("console.log(1)\n")


def apt_then_downloads(n: int) -> bytes:
    """n/2 ``RUN apt-get update && apt-get install -y qK && rm -rf ...``, then n/2 ``RUN curl ...
    | tar``: the base-image analysis weighed each download's need of curl against the packages
    of every install before it, all over again (2,000 lines: 2.3 s)."""
    half = max(n // 2, 1)
    head = ["FROM debian:12", *(f"RUN apt-get update && apt-get install -y q{i} && rm -rf /var/lib/apt/lists/*" for i in range(half))]
    return _lines(head, lambda i: f"RUN curl -fsSL https://example.com/{i}.tgz | tar xz -C /opt", n)


def apt_then_yarn(n: int) -> bytes:
    """n/2 apt install RUNs, ``COPY . .``, then n/2 ``RUN yarn install``: each install's
    question about its lockfile met every apt RUN (they write system paths with globs, such as
    /usr/src/linux-*), 2,000 lines: `fix --diff` 74 s."""
    half = max(n // 2, 1)
    head = ["FROM node:20", "WORKDIR /app", *(f"RUN apt-get update && apt-get install -y q{i} && rm -rf /var/lib/apt/lists/*" for i in range(half)), "COPY . ."]
    return _lines(head, lambda i: "RUN yarn install", n, ['CMD ["node", "index.js"]'])


def chained_installs(n: int) -> bytes:
    """n/3 stages, each ``FROM`` the one before, ``COPY package*.json ./`` and ``RUN npm
    install``: the lockfile question of each install ends in its own stage; an index of the
    whole chain built for every stage cost n x n (3,000 lines: 2.4 s against 0.35)."""
    head = ["FROM node:20 AS s0", "WORKDIR /app"]
    lines = [line for k in range(1, max(n // 3, 2)) for line in (f"FROM s{k - 1} AS s{k}", "COPY package*.json ./", "RUN npm install")]
    return ("\n".join(head + lines) + "\n").encode()


def pinned_installs(n: int) -> bytes:
    """``RUN npm install -g pnpm@9.15.0``, then ``COPY package.json pnpm-lock.yaml ./`` and
    ``RUN pnpm install --prod``, alternating, over a pnpm project: which pnpm release each
    install runs walked every earlier command of the chain (4,000 lines: check 2.5 s)."""
    head = ["FROM node:20-slim", "RUN npm install -g pnpm@9.15.0", "WORKDIR /app"]
    return _lines(head, lambda i: "COPY package.json pnpm-lock.yaml ./" if i % 2 == 0 else "RUN pnpm install --prod", n)


def pinned_installs_tree(directory: Path, n: int) -> None:
    """The build context of ``pinned_installs``: a pnpm project whose lockfile is in sync."""
    (directory / "package.json").write_text('{"name": "app", "version": "1.0.0", "dependencies": {"ms": "^2.1.3"}}\n')
    (directory / "pnpm-lock.yaml").write_text(
        "lockfileVersion: '9.0'\n\nsettings:\n  autoInstallPeers: true\n  excludeLinksFromLockfile: false\n\n"
        "importers:\n\n  .:\n    dependencies:\n      ms:\n        specifier: ^2.1.3\n        version: 2.1.3\n\n"
        "packages:\n\n  ms@2.1.3:\n    resolution: {integrity: sha512-x}\n\nsnapshots:\n\n  ms@2.1.3: {}\n"
    )


def _chain_of_stages(n: int, head: list[str], stage: Callable[[int], list[str]]) -> bytes:
    """``head`` (the first stage, s0), then n/3 stages, each ``FROM`` the one before with the
    two lines ``stage(k)``."""
    lines = list(head)
    for k in range(1, max(n // 3, 2)):
        lines += [f"FROM s{k - 1} AS s{k}", *stage(k)]
    return ("\n".join(lines) + "\n").encode()


def _apt_install(k: int) -> str:
    return f"RUN apt-get update && apt-get install -y q{k} && rm -rf /var/lib/apt/lists/*"


def chained_needs(n: int) -> bytes:
    """n/3 stages, each ``FROM`` the one before, with an apt install and a ``curl ... | tar``:
    the base-image analysis filled a set from every install of each need's lineage, depth x
    stages (4,000 lines: check 1.9 s)."""
    return _chain_of_stages(n, ["FROM debian:12 AS s0"], lambda k: [_apt_install(k), f"RUN curl -fsSL https://example.com/{k}.tgz | tar xz -C /opt"])


def onbuild_needs(n: int) -> bytes:
    """n/3 stages, each ``FROM`` the one before, with an apt install and an ``ONBUILD RUN curl
    ... | tar``: each trigger's need (after the build) was weighed with a set filled from every
    install of its lineage (4,000 lines: check 2.4 s)."""
    return _chain_of_stages(n, ["FROM debian:12 AS s0"], lambda k: [_apt_install(k), f"ONBUILD RUN curl -fsSL https://example.com/{k}.tgz | tar xz -C /opt"])


def onbuild_chain(n: int) -> bytes:
    """n/3 stages, each ``FROM`` the one before, with an ``ONBUILD RUN apt-get install`` and an
    ``ONBUILD RUN curl ... | tar``: each stage's trigger needs were weighed after taking again
    the ONBUILD installs of every stage above (4,000 lines: check 2.5 s, x11 for x4)."""
    return _chain_of_stages(n, ["FROM debian:12 AS s0"], lambda k: [f"ONBUILD {_apt_install(k)}", f"ONBUILD RUN curl -fsSL https://example.com/{k}.tgz | tar xz -C /opt"])


def doubt_chain(n: int) -> bytes:
    """``onbuild_chain`` whose first stage installs git with its recommends and, in an ONBUILD
    trigger, without them, and whose triggers run ``ssh -V``: only git's recommends meet it, and
    which install of git comes first decides whether they come, so each stage's need was weighed
    against its lineage's installs taken again in build order (4,000 lines: check 3.7 s, x8.8
    for x4)."""
    head = [
        "FROM debian:12 AS s0",
        "RUN apt-get update && apt-get install -y git && rm -rf /var/lib/apt/lists/*",
        "ONBUILD RUN apt-get install -y --no-install-recommends git",
    ]
    return _chain_of_stages(n, head, lambda k: [f"ONBUILD {_apt_install(k)}", "ONBUILD RUN ssh -V"])


def empty_chain(n: int) -> bytes:
    """n/2 stages with no step, each ``FROM`` the one before, then n/2 ``COPY . /appK``: each
    empty stage's first state was looked for up the whole chain, by a recursion that stopped
    with "too deeply nested" from about 750 stages (1,500 lines: check 0.27 s, x4.3 per x3)."""
    half = max(n // 2, 1)
    head = ["FROM node:20 AS s0", "WORKDIR /app", *(f"FROM s{k} AS s{k + 1}" for k in range(half))]
    return _lines(head, lambda i: f"COPY . /app{i}", n, ['CMD ["node", "x"]'])


def stay_then_read(n: int) -> bytes:
    """``COPY . .``, then ``RUN cat /app/x > /fK`` (stays: it reads the sources) and ``RUN cat
    /fK > /gK`` (a stable step that reads what the one before wrote), alternating: each
    candidate's blocker was looked for by trying every step that stays in turn (2,000 lines:
    check 21 s)."""
    head = ["FROM debian:12", "WORKDIR /app", "COPY . ."]
    return _lines(head, lambda i: f"RUN cat /app/x > /f{i // 2}" if i % 2 == 0 else f"RUN cat /f{i // 2} > /g{i // 2}", n)


def env_arg_runs(n: int) -> bytes:
    """``COPY . .``, then ``ENV VK=K``, ``ARG AK`` and ``RUN echo $AK > /aK`` in turn: the ARG
    lines move with the RUNs that read them, and each ENV and ARG line was asked against every
    variable the moved RUNs read (8,000 lines of pairs.py's env+argrun: check 17 s)."""
    head = ["FROM debian:12", "WORKDIR /app", "COPY . ."]
    return _lines(head, lambda i: (f"ENV V{i // 3}={i // 3}", f"ARG A{i // 3}", f"RUN echo $A{i // 3} > /a{i // 3}")[i % 3], n)


def onbuild_reorder(n: int) -> bytes:
    """``COPY . .``, then ``RUN apt-get install -y git`` (a stable step SF703 moves above the
    copy) and ``ONBUILD RUN apt-get install -y pK`` (SF104 gives the trigger's install
    ``--no-install-recommends``) in turn. The guard read a round with both as a reorder that
    changed the triggers' text, so each trigger fix was verified with the round's others, then
    alone, each a parse of the whole file (pairs.py's apt+doubt with --unsafe-fixes, where
    SF106 edits the triggers: 800 lines 39 s)."""
    head = ["FROM debian:12", "WORKDIR /app", "COPY . ."]
    return _lines(head, lambda i: ("RUN apt-get install -y git", f"ONBUILD RUN apt-get install -y p{i // 2}")[i % 2], n)


def split_kept_tail(n: int) -> bytes:
    """A one-stage Java build, then n equal ``SHELL`` lines the release keeps: the stage
    split writes them again after the release's FROM, and its one edit made the whole tail a
    change, which the diff gave difflib to align, n x n for n equal lines up to its bound
    (MAX_ALIGNED: about 2 s of ``fix --diff --unsafe-fixes`` at 1,600 lines)."""
    head = ["FROM eclipse-temurin:17-jdk", "WORKDIR /app", "COPY . .", "RUN javac -d classes src/main/Main.java && jar cfe app.jar Main -C classes ."]
    return _lines(head, lambda i: 'SHELL ["/bin/bash", "-o", "pipefail", "-c"]', n, ['CMD ["java", "-jar", "/app/app.jar"]'])


def split_kept_tail_tree(directory: Path, n: int) -> None:
    (directory / "src" / "main").mkdir(parents=True, exist_ok=True)
    (directory / "src" / "main" / "Main.java").write_text("public class Main { public static void main(String[] a) {} }\n")


def chain_venvs(n: int) -> bytes:
    """n/3 stages, each ``FROM`` the one before with ``RUN python -m venv /vK && /vK/bin/pip
    install x``: where each venv's pip came from was summed up over every base stage, none of
    which reaches it (1,500 lines of half empty stages: check 6.4 s)."""
    head = ["FROM python:3.11 AS s0", "WORKDIR /app", "COPY . ."]
    return _chain_of_stages(n, head, lambda k: [f"RUN python -m venv /v{k} && /v{k}/bin/pip install x", "ENV A=1"])


def chain_then_yarn(n: int) -> bytes:
    """n/2 stages with no step, each ``FROM`` the one before, ``COPY . .``, then n/2 ``RUN yarn
    install``: which lockfile each install sees met every base stage, per round of ``fix``
    (2,000 lines: ``fix --diff`` 17.8 s)."""
    half = max(n // 2, 1)
    head = ["FROM node:20 AS s0", "WORKDIR /app", *(f"FROM s{k} AS s{k + 1}" for k in range(half)), "COPY . ."]
    return _lines(head, lambda i: "RUN yarn install", n, ['CMD ["node", "index.js"]'])


def apt_then_lists(n: int) -> bytes:
    """n/2 ``RUN apt-get update && apt-get install -y qK && rm -rf /var/lib/apt/lists/*``, then
    n/2 ``RUN rm -rf /var/lib/apt/lists/*``: SF501 deleted every other redundant RUN per round
    (touching deletions waited), and only those within 64 RUNs of the last install (8 rounds at
    400 lines, the 12-round cap from about 1,000)."""
    half = max(n // 2, 1)
    head = ["FROM debian:12", *(_apt_install(i) for i in range(half))]
    return _lines(head, lambda i: "RUN rm -rf /var/lib/apt/lists/*", n)


def copies_and_npm(n: int) -> bytes:
    """``COPY fK.txt /srv/fK.txt`` and ``RUN npm install pK``, alternating, over an npm
    project: which context file each install's package.json came from read every copy of the
    stage (16,000 lines: ``fix --diff`` 7.9 s)."""
    head = ["FROM node:20", "WORKDIR /app", "COPY . ."]
    return _lines(head, lambda i: f"COPY f{i % 5}.txt /srv/f{i}.txt" if i % 2 == 0 else f"RUN npm install p{i}", n, ['CMD ["node", "index.js"]'])


def copies_and_npm_tree(directory: Path, n: int) -> None:
    env_npm_runs_tree(directory, n)
    for k in range(5):
        (directory / f"f{k}.txt").write_text("x\n")


def env_context_steps(n: int) -> bytes:
    """n/2 ENV lines, a COPY, then n/2 LABEL lines, over a context with a .dockerignore: the
    copy checks (SF704, SF706) copied every step's variables, COPY or not (16,000 lines: 72 s)."""
    half = max(n // 2, 1)
    head = ["FROM debian:12", *(f"ENV V{i}={i}" for i in range(half)), "COPY a.txt /srv/a.txt"]
    return _lines(head, lambda i: f"LABEL l{i}={i}", n)


def env_context_steps_tree(directory: Path, n: int) -> None:
    (directory / "a.txt").write_text("a\n")
    (directory / ".dockerignore").write_text("node_modules\n")


def env_npm_runs_tree(directory: Path, n: int) -> None:
    package = {"name": "app", "version": "1.0.0", "scripts": {"build": "tsc"}, "devDependencies": {"typescript": "5.4.5"}}
    (directory / "package.json").write_text(json.dumps(package, indent=2) + "\n")
    root = {"name": "app", "version": "1.0.0", "devDependencies": {"typescript": "5.4.5"}}
    lock = {"name": "app", "version": "1.0.0", "lockfileVersion": 3, "packages": {"": root}}
    (directory / "package-lock.json").write_text(json.dumps(lock, indent=2) + "\n")
    (directory / "tsconfig.json").write_text('{"compilerOptions": {"outDir": "dist"}}\n')
    (directory / "index.ts").write_text("console.log(1)\n")


def context_ignore(n: int) -> bytes:
    """``COPY dK/ ./dK/`` n times, over a context whose .dockerignore has a rule pair per
    folder (every file was tried against every rule: 4,000 rules, 60 s)."""
    return _lines(["FROM python:3.12-slim", "WORKDIR /app"], lambda i: f"COPY d{i}/ ./d{i}/", n)


def context_ignore_tree(directory: Path, n: int) -> None:
    folders = max(n - 2, 1)
    for k in range(folders):
        (directory / f"d{k}").mkdir()
        (directory / f"d{k}" / "a.py").write_text("x = 1\n")
        (directory / f"d{k}" / "b.tmp").write_text("x\n")
    (directory / ".dockerignore").write_text("".join(f"d{k}/**/*.tmp\n!d{k}/keep{k}.tmp\n" for k in range(folders)))


def context_ignore_globs_tree(directory: Path, n: int) -> None:
    """The context-ignore tree, with a .dockerignore of one ``**/*.eK`` line per folder: rules no
    component of a path keys (a .dockerignore made from a big .gitignore), each tried on every
    file before (4,000 rules over 8,000 files: check 22 s, now 0.8 s)."""
    folders = max(n - 2, 1)
    for k in range(folders):
        (directory / f"d{k}").mkdir()
        (directory / f"d{k}" / "a.py").write_text("x = 1\n")
        (directory / f"d{k}" / f"b.e{k}").write_text("x\n")
    (directory / ".dockerignore").write_text("".join(f"**/*.e{k}\n" for k in range(folders)))


def write_case(directory: Path, shape: str, data: bytes, n: int) -> Path:
    """The shape's Dockerfile in ``directory`` (its build context), with the context's files
    for the shapes that have one."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "Dockerfile"
    path.write_bytes(data)
    if shape in CONTEXTS:
        CONTEXTS[shape](directory, n)
    return path


SHAPES: dict[str, tuple[Callable[[int], bytes], str]] = {
    "small-runs": (small_runs, "n one-line RUNs (SF502 merges them)"),
    "crlf-runs": (crlf_runs, "the same with CRLF line endings"),
    "apt-runs": (apt_runs, "RUN apt-get update && install / RUN rm -rf lists, alternating (SF10x, SF501)"),
    "onbuild-runs": (onbuild_runs, "n ONBUILD RUN lines"),
    "suppressed-runs": (suppressed_runs, "a suppression comment above every RUN"),
    "comments": (comments, "nine comment lines per RUN"),
    "continuation": (continuation, "one RUN with n continuation lines"),
    "comments-in-cont": (comments_in_continuation, "one RUN, a comment line inside the continuation every other line"),
    "apt-chain": (apt_chain, "one RUN: apt-get update && n apt-get installs"),
    "apt-install-runs": (apt_install_runs, "one apt-get update, then n RUN apt-get install"),
    "apt-stages": (apt_stages, "n/3 independent stages: update && install, then a RUN"),
    "rm-runs": (rm_runs, "n RUN rm -rf of paths no other RUN mentions"),
    "cleanup-chain": (cleanup_chain, "a RUN of n cache removals after the RUN that wrote the cache"),
    "pip-env": (pip_env, "ENV and RUN pip install, alternating"),
    "apk-build": (apk_build, "n RUN apk add gcc && gcc ..."),
    "backquote-comments": (backquote_comments, "one RUN: n packages, each with a `# comment`"),
    "heredoc-words": (heredoc_words, "one RUN line with n/2 non-ASCII heredocs"),
    "findings-one-line": (findings_on_one_line, "one non-ASCII line: n installs without -y (n findings)"),
    "variable-image": (variable_image, "FROM $A$A...:tag, 10n bytes"),
    "long-line": (long_line, "one physical line: RUN echo 0 && echo 1 && ... (n commands)"),
    "heredoc": (heredoc, "one RUN <<EOF with an n-line body"),
    "many-heredocs": (many_heredocs, "n/3 RUN <<EOF heredocs"),
    "long-word": (long_word, "one word of 10n bytes (100k: 1 MB)"),
    "unclosed-quote": (unclosed_quote, "a 9n-byte word after an unclosed double quote"),
    "nested-subshells": (nested_subshells, "( ( ( ... ) ) ) nested n/2 deep"),
    "nested-quotes": (nested_quotes, '"$(echo "$(echo ...)")" nested n/2 deep'),
    "nested-runs": (nested_runs, "RUNs of 43 lines each, nested 20 deep"),
    "many-stages": (many_stages, "n/3 stages, each FROM the previous, COPY --from and RUN"),
    "args-envs": (args_envs, "n/4 global ARGs, then ARG/ENV lines"),
    "env-continuation": (env_continuation, "one ENV with n continuation lines"),
    "json-array": (json_array, "one exec-form RUN with an n-element JSON array"),
    "copy-lines": (copy_lines, "n COPY lines"),
    "add-lines": (add_lines, "n ADD lines of local files (SF601 looks them up)"),
    "env-path": (env_path, "ENV PATH=/binK:$PATH n times (each value holds the ones before)"),
    "workdir-chain": (workdir_chain, "WORKDIR dK and RUN, alternating (each WORKDIR one folder deeper)"),
    "arg-images": (arg_images, "n/2 global ARGs, then FROM $Vk for each (SF801 finds the ARG)"),
    "context-installs": (context_installs, "COPY package.json / RUN npm install, alternating, over an npm project (SF702, SF801)"),
    "context-scripts": (context_scripts, "COPY . . / RUN ./sK.sh, alternating, over a context of n/2 scripts (SF801 reads each)"),
    "context-chain": (context_chain, "n/3 stages, each FROM the previous: COPY requirements.txt, RUN pip install -r (SF401, SF801)"),
    "moves-past-env": (moves_past_env, "COPY . ., then RUN pip install pK / ENV VK, alternating (SF703 moves every install past every ENV)"),
    "moves-past-writes": (moves_past_writes, "COPY . ., then RUN cat /app/x > /usr/lib/fK / RUN pip install pK, alternating (SF703)"),
    "context-npm-scripts": (context_npm_scripts, "n RUN npm run buildK after COPY . ., over a package.json with a script each"),
    "workspace-installs": (workspace_installs, "COPY . ., then RUN npm install / RUN echo, alternating, over n/2 workspace members (SF701)"),
    "env-npm-runs": (env_npm_runs, "n/2 ENV lines, then one RUN of n/2 `npm run build` (the Node recipe reads each)"),
    "export-installs": (export_installs, "one RUN of n lines `export VK=K && pip install pK` (each fact saw every export)"),
    "env-npm-installs": (env_npm_installs, "n/2 ENV lines, then n/2 RUN npm install (each read every variable of the stage)"),
    "env-npm-assignments": (env_npm_assignments, "n/2 ENV lines, then n/2 RUN X=1 npm run build (a copy of the variables per command)"),
    "cargo-builds": (cargo_builds, "n/2 COPY lines, then n/2 RUN cargo build --release over a crate (the Rust recipe scanned the copies per build)"),
    "yarn-installs": (yarn_installs, "n/2 LABEL, COPY . ., n/2 RUN yarn install (each walked back over every step for its lockfile)"),
    "apt-then-downloads": (apt_then_downloads, "n/2 apt install RUNs, then n/2 RUN curl | tar (each need weighed against every install)"),
    "apt-then-yarn": (apt_then_yarn, "n/2 apt install RUNs, COPY . ., n/2 RUN yarn install (each lockfile question met every apt RUN)"),
    "chained-installs": (chained_installs, "n/3 stages each FROM the one before, with a COPY of the manifests and npm install"),
    "chained-needs": (chained_needs, "n/3 stages each FROM the one before, with an apt install and a curl | tar (each need's lineage set)"),
    "onbuild-needs": (onbuild_needs, "n/3 stages each FROM the one before, with an apt install and an ONBUILD RUN curl | tar"),
    "onbuild-chain": (onbuild_chain, "n/3 stages each FROM the one before, with an ONBUILD apt install and an ONBUILD RUN curl | tar"),
    "doubt-chain": (doubt_chain, "onbuild-chain under git installed with and without its recommends, ONBUILD RUN ssh -V in each stage"),
    "empty-chain": (empty_chain, "n/2 stages with no step, each FROM the one before, then n/2 COPY . /appK"),
    "stay-then-read": (stay_then_read, "COPY . ., then RUN cat /app/x > /fK and RUN cat /fK > /gK in turn (each move's blocker)"),
    "env-arg-runs": (env_arg_runs, "COPY . ., then ENV VK, ARG AK, RUN echo $AK in turn (the variables the moved RUNs read)"),
    "split-kept-tail": (split_kept_tail, "a one-stage Java build, then n equal SHELL lines the split's release keeps"),
    "onbuild-reorder": (onbuild_reorder, "COPY . ., then RUN apt-get install -y git and ONBUILD RUN apt-get install -y pK in turn"),
    "chain-venvs": (chain_venvs, "n/3 stages each FROM the one before, each making a venv and running its pip"),
    "chain-then-yarn": (chain_then_yarn, "n/2 empty stages each FROM the one before, COPY . ., n/2 RUN yarn install"),
    "apt-then-lists": (apt_then_lists, "n/2 apt install RUNs that clean their lists, then n/2 RUN rm -rf /var/lib/apt/lists/*"),
    "copies-and-npm": (copies_and_npm, "COPY fK.txt /srv/fK.txt / RUN npm install pK, alternating, over an npm project"),
    "pinned-installs": (pinned_installs, "COPY package.json pnpm-lock.yaml / RUN pnpm install, alternating, after a pinned pnpm (SF702 asked the release of each)"),
    "env-context-steps": (env_context_steps, "n/2 ENV lines, a COPY, n/2 LABEL lines, a .dockerignore (each step's variables were copied)"),
    "context-ignore": (context_ignore, "n COPY dK/ lines over a context whose .dockerignore has a rule pair per folder"),
    "context-ignore-globs": (context_ignore, "the same, the .dockerignore a `**/*.eK` line per folder"),
    "context-copies": (context_copies, "n/5 stages: COPY pkgK/*.py, COPY . ., a RUN naming files; a context of 4n/5 files (SF704/705)"),
}

# shapes whose build context (the Dockerfile's folder) holds files: directory, n -> writes them
CONTEXTS: dict[str, Callable[[Path, int], None]] = {
    "context-copies": context_copies_tree,
    "context-installs": context_installs_tree,
    "pinned-installs": pinned_installs_tree,
    "copies-and-npm": copies_and_npm_tree,
    "chain-then-yarn": yarn_installs_tree,
    "context-scripts": context_scripts_tree,
    "context-chain": context_chain_tree,
    "context-ignore": context_ignore_tree,
    "context-ignore-globs": context_ignore_globs_tree,
    "context-npm-scripts": context_npm_scripts_tree,
    "moves-past-env": moves_past_env_tree,
    "moves-past-writes": moves_past_writes_tree,
    "env-npm-runs": env_npm_runs_tree,
    "env-context-steps": env_context_steps_tree,
    "split-kept-tail": split_kept_tail_tree,
    "yarn-installs": yarn_installs_tree,
    "chained-installs": yarn_installs_tree,
    "apt-then-yarn": yarn_installs_tree,
    "cargo-builds": cargo_builds_tree,
    "env-npm-assignments": env_npm_runs_tree,
    "workspace-installs": workspace_installs_tree,
}


# -- one measurement, in a child process -------------------------------------------------------

def child(command: str, path: str, root: str, budget: str | None = None) -> None:
    """Run one command on ``path`` as the CLI does and print its CPU seconds as JSON."""
    sys.path.insert(0, root)
    real_stdout = os.dup(1)
    real_stderr = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    from slimfile.cli import entry

    def run(target: str) -> int:
        sys.argv = ["slimfile", *COMMANDS[command], *(["--timeout", budget] if budget else []), target]
        try:
            entry()
        except SystemExit as exc:
            return exc.code if isinstance(exc.code, int) else 1
        except Exception:  # a crash of the CLI itself (a traceback): timed, and shown as exit X
            import traceback

            os.write(real_stderr, traceback.format_exc().encode())
            return "X"
        return 0

    with tempfile.TemporaryDirectory() as tmp:  # warm-up: load every module the command needs
        warm = Path(tmp) / "Dockerfile"
        warm.write_bytes(b"FROM debian:12\nRUN apt-get install -y curl\n")
        run(str(warm))
    start = time.process_time()
    code = run(path)
    seconds = time.process_time() - start
    sys.stdout.flush()
    os.write(real_stdout, json.dumps({"seconds": seconds, "exit": code}).encode() + b"\n")


def measure(mode: str, command: str, path: Path, timeout: float, root: Path = ROOT) -> tuple[float | None, int | str | None]:
    """(CPU seconds or None on timeout, exit code: 0/1/2 as the CLI's, "X" for a traceback)."""
    if mode == "cli":
        argv = [sys.executable, "-m", "slimfile", *COMMANDS[command], str(path)]
    else:
        argv = [sys.executable, __file__, "--child", command, str(path), str(root)]
    if BUDGET is not None and command != "parse":  # slimfile's own per-file budget (--timeout)
        argv += ["--timeout", BUDGET] if mode == "cli" else ["--budget", BUDGET]
    env = dict(os.environ, PYTHONPATH=str(root))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=timeout, cwd=path.parent)
    except subprocess.TimeoutExpired:
        return None, None
    if mode == "cli" and done.returncode not in (0, 1, 2):
        return cpu_of_children(before), "X"
    if mode != "cli" and not done.stdout.strip():
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr.decode()[-3000:]}")
    if mode == "cli":
        return cpu_of_children(before), done.returncode
    result = json.loads(done.stdout.decode().strip().splitlines()[-1])
    return result["seconds"], result["exit"]


def cpu_of_children(before) -> float:
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def best_of(repeat: int, mode: str, command: str, path: Path, timeout: float, root: Path) -> tuple[float | None, int | None]:
    best: float | None = None
    code = None
    for _ in range(repeat):
        seconds, code = measure(mode, command, path, timeout, root)
        if seconds is None:
            return None, None
        best = seconds if best is None else min(best, seconds)
    return best, code


# -- the report --------------------------------------------------------------------------------

def _fmt_time(seconds: float | None, timeout: float) -> str:
    if seconds is None:
        return f">{timeout:g}s"
    return f"{seconds:.3f}s"


def _fmt_ratio(a: float | None, b: float | None, factor: float) -> str:
    """The time ratio of two sizes ``factor`` apart; flagged above 1.2x linear (12 for 10x)."""
    if a is None or b is None:
        return "-"
    ratio = b / a if a > 0 else float("inf")
    return f"{ratio:.1f}{' !' if ratio > factor * FLAG_RATIO / 10 else ''}"


def scaling_table(args, workdir: Path) -> list[str]:
    flagged = []
    sizes = args.sizes
    header = f"{'shape':<18} {'command':<7} " + " ".join(f"{s:>9}" for s in sizes)
    header += " " + " ".join(f"{'us/line@' + _short(s):>12}" for s in sizes)
    header += " " + " ".join(f"{_short(b) + '/' + _short(a):>10}" for a, b in zip(sizes, sizes[1:])) + "  exit"
    print(header)
    print("-" * len(header))
    for shape in args.shapes:
        generate = SHAPES[shape][0]
        files = {}
        for size in sizes:
            files[size] = write_case(workdir / shape / str(size), shape, generate(size), size)
        for command in args.commands:
            times: list[float | None] = []
            codes = []
            stopped = False
            for size in sizes:
                if stopped:
                    times.append(None)
                    codes.append("-")
                    continue
                seconds, code = best_of(args.repeat, args.mode, command, files[size], args.timeout, args.root)
                times.append(seconds)
                codes.append(str(code) if code is not None else "T")
                stopped = seconds is None
            per_line = [f"{t / s * 1e6:12.1f}" if t is not None else f"{'-':>12}" for t, s in zip(times, sizes)]
            ratios = [_fmt_ratio(a, b, sb / sa) for a, b, sa, sb in zip(times, times[1:], sizes, sizes[1:])]
            line = f"{shape:<18} {command:<7} " + " ".join(f"{_fmt_time(t, args.timeout):>9}" for t in times)
            line += " " + " ".join(per_line) + " " + " ".join(f"{r:>10}" for r in ratios) + "  " + ",".join(codes)
            print(line, flush=True)
            if any(r.endswith("!") for r in ratios) or None in times:
                flagged.append(f"{shape} {command}")
    return flagged


def _short(size: int) -> str:
    return f"{size // 1000}k" if size % 1000 == 0 else str(size)


def biggest_size(generate: Callable[[int], bytes]) -> int:
    """The largest n whose file fits in MAX_BYTES (a binary search on the generator)."""
    low, high = 1, 2
    while len(generate(high)) <= MAX_BYTES:
        low, high = high, high * 2
    while high - low > 1:
        mid = (low + high) // 2
        if len(generate(mid)) <= MAX_BYTES:
            low = mid
        else:
            high = mid
    return low


def limit_table(args, workdir: Path) -> list[str]:
    slow = []
    print(f"\nBiggest file of each shape under the 4 MiB limit (CPU seconds; over {args.limit_seconds:g} s is flagged):")
    header = f"{'shape':<18} {'lines':>9} {'bytes':>9} " + " ".join(f"{c:>9}" for c in args.commands) + "  exit"
    print(header)
    print("-" * len(header))
    for shape in args.shapes:
        generate = SHAPES[shape][0]
        size = biggest_size(generate)
        data = generate(size)
        path = write_case(workdir / shape / "limit", shape, data, size)
        cells, codes = [], []
        for command in args.commands:
            seconds, code = measure(args.mode, command, path, args.timeout, args.root)
            flag = " !" if seconds is None or seconds > args.limit_seconds else "  "
            cells.append(f"{_fmt_time(seconds, args.timeout)}{flag}")
            codes.append(str(code) if code is not None else "T")
            if flag == " !":
                slow.append(f"{shape} {command} (limit)")
        lines = data.count(b"\n")
        print(f"{shape:<18} {lines:>9} {len(data):>9} " + " ".join(f"{c:>9}" for c in cells) + "  " + ",".join(codes), flush=True)
    return slow


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[6] if sys.argv[5:6] == ["--budget"] else None)
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000", type=lambda s: [int(x) for x in s.split(",")])
    parser.add_argument("--shapes", default=",".join(SHAPES), type=lambda s: s.split(","))
    parser.add_argument("--commands", default="parse,check,fix", type=lambda s: s.split(","))
    parser.add_argument("--repeat", type=int, default=1, help="best of N runs per measurement")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds before a run is stopped")
    parser.add_argument("--mode", choices=("inprocess", "cli"), default="inprocess")
    parser.add_argument("--no-limit", action="store_true", help="skip the 4 MiB size-limit check")
    parser.add_argument("--limit-seconds", type=float, default=10.0, help="flag a limit-size run over this")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose slimfile runs (default: this one)")
    parser.add_argument("--file-budget", help="pass --timeout VALUE to check and fix (slimfile's per-file budget of wall clock; "
                        "'none' measures a file the default budget would stop on a loaded machine)")
    parser.add_argument("--list", action="store_true", help="list the shapes and exit")
    args = parser.parse_args()
    global BUDGET
    BUDGET = args.file_budget
    if args.list:
        for name, (_, what) in SHAPES.items():
            print(f"{name:<18} {what}")
        return
    unknown = [s for s in args.shapes if s not in SHAPES] + [c for c in args.commands if c not in COMMANDS]
    if unknown:
        parser.error(f"unknown shape or command: {', '.join(unknown)} (see --list)")
    print(f"mode: {args.mode}; CPU seconds, best of {args.repeat}; commands: "
          + ", ".join(f"{c} = slimfile {' '.join(COMMANDS[c])}" for c in args.commands))
    with tempfile.TemporaryDirectory(prefix="slimfile-scaling-") as tmp:
        workdir = Path(tmp)
        flagged = scaling_table(args, workdir)
        if not args.no_limit:
            flagged += limit_table(args, workdir)
    print()
    if flagged:
        print(f"FLAGGED ({len(flagged)}): " + "; ".join(flagged))
    else:
        print(f"every ratio is at most {FLAG_RATIO:g} and every limit-size run under {args.limit_seconds:g} s")


if __name__ == "__main__":
    main()
