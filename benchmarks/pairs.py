"""Hunt superlinear paths in pairs: n/2 lines of one kind, then n/2 of another.

``benchmarks/scaling.py`` times shapes someone thought of; a quadratic path usually needs two
ingredients, something that grows (ENV lines, apt installs, copies, stages) and something that
asks about it once per line (an install that looks for its lockfile, a need weighed against
the installs before it). This script writes, for every *background* x *probe* pair, a
Dockerfile of a ``WORKDIR``, n/2 background lines, ``COPY . .`` and n/2 probe lines over a
small build context (package.json, requirements.txt, go.mod, Cargo.toml, ...), and counts the
lines of Python that ``slimfile check`` (or ``fix --diff`` with ``--fix``) executes at two
sizes, as ``tests/test_scaling.py`` does. Linear work gives the ratio of the sizes (4); a
ratio above 4.6 is flagged with ``!!!``. A flagged pair becomes a shape of
``benchmarks/scaling.py`` once it is fixed.

    python benchmarks/pairs.py [--fix | --unsafe] [--interleave] [--sizes 100,400] [--only env+npm,apt+yarn,chain+*]

Results: docs/benchmarks.md ("Hostile files, a fifteenth pass").
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.test_scaling import check, executed_lines, fix_diff, fix_diff_unsafe

BACKGROUNDS: dict[str, Callable[[int], str]] = {
    "env": lambda i: f"ENV V{i}={i}",
    "arg": lambda i: f"ARG A{i}={i}",
    "label": lambda i: f"LABEL l{i}={i}",
    "echo": lambda i: f"RUN echo {i}",
    "copy": lambda i: f"COPY f{i % 5}.txt /srv/f{i}.txt",
    "workdir": lambda i: f"WORKDIR /w{i}",
    "expose": lambda i: f"EXPOSE {1000 + i}",
    "useradd": lambda i: f"RUN useradd u{i}",
    "mkdir": lambda i: f"RUN mkdir -p /d{i}",
    "user": lambda i: f"USER u{i}",
    "envpath": lambda i: f"ENV PATH=/p{i}:$PATH",
    "onbuild": lambda i: f"ONBUILD RUN echo {i}",
    "stage": lambda i: f"FROM debian:12 AS s{i}",
    "copyfrom": lambda i: f"COPY --from=debian:12 /etc/hostname /h{i}",
    "pip": lambda i: f"RUN pip install q{i}",
    "apt": lambda i: f"RUN apt-get update && apt-get install -y q{i} && rm -rf /var/lib/apt/lists/*",
    "chain": lambda i: f"FROM s{i - 1} AS s{i}",  # each stage FROM the one before (the first is s-1)
    "shell": lambda i: 'SHELL ["/bin/bash", "-o", "pipefail", "-c"]',
    "healthcheck": lambda i: f"HEALTHCHECK CMD curl -f http://localhost:{1000 + i}/",
    "volume": lambda i: f"VOLUME /v{i}",
    "mount": lambda i: f"RUN --mount=type=cache,target=/var/cache/apt{i} apt-get install -y m{i}",
    "heredoc": lambda i: f"RUN <<EOF\necho {i} > /h{i}\nEOF",
    "addurl": lambda i: f"ADD https://example.com/{i}.tgz /opt/{i}/",
    "link": lambda i: f"COPY --link f{i % 5}.txt /l{i}.txt",
    "cmd": lambda i: f'CMD ["x{i}"]',
    "stagecopy": lambda i: f"FROM debian:12 AS s{i}\nCOPY --from=s{i - 1} /etc/hostname /h{i}",
}

# probe -> (base image, line)
PROBES: dict[str, tuple[str, Callable[[int], str]]] = {
    "pip": ("python:3.11", lambda i: f"RUN pip install p{i}"),
    "pipreq": ("python:3.11", lambda i: "RUN pip install -r requirements.txt"),
    "userpip": ("python:3.11", lambda i: f"RUN pip install --user p{i}"),
    "venv": ("python:3.11", lambda i: f"RUN python -m venv /v{i} && /v{i}/bin/pip install x"),
    "uv": ("python:3.11", lambda i: f"RUN uv pip install p{i}"),
    "poetry": ("python:3.11", lambda i: "RUN poetry install"),
    "cache": ("python:3.11", lambda i: f"RUN --mount=type=cache,target=/root/.cache pip install p{i}"),
    "copyreq": ("python:3.11", lambda i: "COPY requirements.txt ."),
    "npm": ("node:20", lambda i: f"RUN npm install p{i}"),
    "npmci": ("node:20", lambda i: "RUN npm ci"),
    "npmcd": ("node:20", lambda i: "RUN cd /app && npm install"),
    "npmrun": ("node:20", lambda i: "RUN npm run build"),
    "npx": ("node:20", lambda i: "RUN npx tsc"),
    "yarn": ("node:20", lambda i: "RUN yarn install"),
    "pnpm": ("node:20", lambda i: "RUN pnpm install"),
    "copyall": ("node:20", lambda i: f"COPY . /app{i}"),
    "chown": ("node:20", lambda i: "COPY --chown=node:node . ."),
    "fromcopy": ("node:20", lambda i: f"COPY --from=node:20 /usr/local/bin/node /n{i}"),
    "apt": ("debian:12", lambda i: f"RUN apt-get update && apt-get install -y p{i}"),
    "update": ("debian:12", lambda i: "RUN apt-get update"),
    "lists": ("debian:12", lambda i: "RUN rm -rf /var/lib/apt/lists/*"),
    "sudo": ("debian:12", lambda i: f"RUN sudo apt-get install -y p{i}"),
    "rm": ("debian:12", lambda i: f"RUN rm -rf /tmp/x{i}"),
    "cd": ("debian:12", lambda i: "RUN cd /w && make"),
    "curl": ("debian:12", lambda i: f"RUN curl -fsSL https://example.com/{i}.tgz | tar xz -C /opt"),
    "onbuild": ("debian:12", lambda i: f"ONBUILD RUN apt-get install -y p{i}\nONBUILD RUN curl -fsSL https://example.com/{i}.tgz | tar xz -C /opt"),
    # git with its recommends, and without them in a trigger: which comes first decides ssh
    "doubt": ("debian:12", lambda i: f"RUN apt-get install -y git\nONBUILD RUN apt-get install -y --no-install-recommends git p{i}\nONBUILD RUN ssh -V"),
    "heredoc": ("debian:12", lambda i: f"RUN <<EOF\necho {i}\nEOF"),
    "addfile": ("debian:12", lambda i: f"ADD f{i % 5}.txt /opt/{i}/"),
    "apk": ("alpine:3", lambda i: f"RUN apk add p{i}"),
    "dnf": ("fedora:39", lambda i: f"RUN dnf install -y p{i}"),
    "go": ("golang:1.22", lambda i: f"RUN go build -o /b{i} ."),
    "gomod": ("golang:1.22", lambda i: "RUN go mod download"),
    "cargo": ("rust:1", lambda i: "RUN cargo build --release"),
    "gem": ("ruby:3", lambda i: f"RUN gem install g{i}"),
    "bundle": ("ruby:3", lambda i: "RUN bundle install"),
    "composer": ("php:8", lambda i: "RUN composer install"),
    "mvn": ("maven:3", lambda i: "RUN mvn package"),
    "cmd": ("python:3.11", lambda i: f'CMD ["python", "app{i}.py"]'),
    "fromstage": ("node:20", lambda i: f"COPY --from=s-1 /app /app{i}"),
    "npmg": ("node:20", lambda i: f"RUN npm install -g p{i}"),
    "aptclean": ("debian:12", lambda i: "RUN apt-get clean"),
    "chmod": ("debian:12", lambda i: f"RUN chmod +x /app/x{i}"),
    "useradd": ("debian:12", lambda i: f"RUN useradd -m u{i}\nUSER u{i}"),
    "argrun": ("debian:12", lambda i: f"ARG A{i}\nRUN echo $A{i} > /a{i}"),
}

CONTEXT = {
    "package.json": '{"name": "a", "version": "1.0.0", "scripts": {"build": "tsc"}, "devDependencies": {"typescript": "5.4.5"}}\n',
    "package-lock.json": '{"name": "a", "lockfileVersion": 3, "packages": {"": {"name": "a"}}}\n',
    "requirements.txt": "flask==3.0.0\n",
    "go.mod": "module x\n\ngo 1.22\n",
    "main.go": "package main\n\nfunc main() {}\n",
    "Cargo.toml": '[package]\nname = "x"\nversion = "0.1.0"\n',
    "Gemfile": 'source "https://rubygems.org"\n',
    "pom.xml": "<project/>\n",
    **{f"f{k}.txt": "x\n" for k in range(5)},
}
FLAG = 1.15  # over the linear ratio: flagged


def write(directory: Path, background: str, probe: str, n: int, interleave: bool = False) -> Path:
    """The pair's Dockerfile of about n lines, in a build context of its own: n/2 background
    lines, then n/2 probe lines, or (``interleave``) after the copy, one of each in turn (a
    probe in each stage of a chain)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in CONTEXT.items():
        (directory / name).write_text(text)
    base, line = PROBES[probe]
    half = n // 2
    grow = BACKGROUNDS[background]
    if interleave:
        body = ["COPY . .", *(text for i in range(half) for text in (grow(i), line(i)))]
    else:
        body = [*(grow(i) for i in range(half)), "COPY . .", *(line(i) for i in range(half))]
    lines = [f"FROM {base} AS s-1", "WORKDIR /app", *body, 'CMD ["node", "x"]']
    (directory / "Dockerfile").write_text("\n".join(lines) + "\n")
    return directory / "Dockerfile"


def count_lines(command: Callable[[Path], None], path: Path) -> int:
    """Lines of Python the command runs on the file (``tests/test_scaling.executed_lines``)."""
    return executed_lines(lambda: command(path))


def add_command_options(parser: argparse.ArgumentParser) -> None:
    """--fix and --unsafe: which command is counted (``check`` without either)."""
    parser.add_argument("--fix", action="store_true", help="count `fix --diff` instead of `check`")
    parser.add_argument("--unsafe", action="store_true", help="count `fix --diff --unsafe-fixes` instead of `check`")


def chosen_command(args: argparse.Namespace) -> Callable[[Path], None]:
    return fix_diff_unsafe if args.unsafe else fix_diff if args.fix else check


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_command_options(parser)
    parser.add_argument("--sizes", default="100,400")
    parser.add_argument("--only", default="", help="comma-separated background+probe pairs (background+* for every probe)")
    parser.add_argument("--interleave", action="store_true", help="a background line and a probe line in turn")
    args = parser.parse_args(argv)
    small, large = (int(s) for s in args.sizes.split(","))
    only = {pair for pair in args.only.split(",") if pair}
    command = chosen_command(args)
    flagged = 0
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        command(write(root / "warm-up", "env", "npm", 10))
        for background, probe in itertools.product(BACKGROUNDS, PROBES):
            if only and not {f"{background}+{probe}", f"{background}+*"} & only:
                continue
            counts = [count_lines(command, write(root / f"{background}-{probe}-{n}", background, probe, n, args.interleave)) for n in (small, large)]
            ratio = counts[1] / counts[0]
            mark = "  !!!" if ratio > large / small * FLAG else ""
            flagged += bool(mark)
            print(f"{background}+{probe}: {counts[0]:,} -> {counts[1]:,} lines of Python, x{ratio:.2f}{mark}", flush=True)
    print(f"{flagged} pair(s) flagged")
    return 1 if flagged else 0


if __name__ == "__main__":
    sys.exit(main())
