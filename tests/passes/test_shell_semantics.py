"""Differential tests: a fixed Dockerfile's RUNs behave exactly like the original's, when run.

Hypothesis writes small Dockerfiles whose RUNs are made of harmless POSIX commands (``echo N``,
``true``, ``false``, ``exit N``, ``cd /tmp``, ``export V=x``, ``set -e``, ``umask``, functions,
``test``, pipelines, subshells, brace groups, ``if``/``for``, trailing ``;``, comments) and of
package-manager commands (``apt-get update``, ``apk add``, ``pip install``, ``npm ci``...,
``rm -rf /var/lib/apt/lists/*``), in one-line and multi-line RUNs, with ``--mount``/``--network``
flags, comment and blank lines, ``ENV``/``WORKDIR``/``SHELL`` lines and ``RUN <<EOF`` scripts.
slimfile fixes each file (every rule; safe fixes, or unsafe ones too; small or all merges), and
both versions are *executed* the way a builder would (:func:`execute`): each RUN is a fresh
``/bin/sh -c`` (dash) with a reset environment, and a RUN that exits non-zero stops the build.

The package managers (and ``rm``, ``make``) are shims on ``PATH``: they append their argv to a
log and exit 1 when an argument is ``bad`` (or when ``ENV APT_SHIM_FAIL=apt:update`` names
the family and action: a failing index refresh; an ``APT_*`` name, which slimfile's model of
apt knows apt reads, as apt reads ``APT_CONFIG``), 0 otherwise; the "main" actions (install, add,
ci, ...) also print ``family:action`` on stdout, so their order relative to ``echo`` output is
compared. Both builds must give:

* the same stdout lines, up to the RUN that stops the build;
* the same stop (or none) and the same final status; the stopping RUN of the fixed file holds
  the original stopping RUN's ``echo`` numbers, when it has any (merged RUNs map back);
* after a cache-order fix (a ``reorder``), the same lines in any order; when the build stops,
  some of them (a failing step moved up stops it earlier; it fails either way);
* every cleanup the original ran (``rm``, ``apt-get clean``, ``apk del``, ``npm cache clean``,
  ...) also runs in the fixed build (fixes may add cleanups, never lose one; a copy may go
  when the RUN it moves into already runs it whenever it succeeds: SF501).

The scripts are extracted with buildkit's own parser (the ``dockerfile`` package) when it is
installed, so slimfile's parser is not trusted here. ``SLIMFILE_SEMANTICS_EXAMPLES`` raises the
number of examples per test (default 120, three tests).
"""

from __future__ import annotations

import collections
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slimfile.engine import Settings, fix_source

try:  # buildkit's parser, v0.12.5 (x86_64 Linux wheel)
    import dockerfile as buildkit
except ImportError:  # pragma: no cover - other platforms use slimfile's parser
    buildkit = None

SH = shutil.which("dash") or "/bin/sh"
pytestmark = pytest.mark.skipif(not Path(SH).exists(), reason="needs a POSIX /bin/sh")

EXAMPLES = int(os.environ.get("SLIMFILE_SEMANTICS_EXAMPLES", "120"))
HYPOTHESIS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same examples on every run (CI and a fresh clone): no pass or fail by chance
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

# -- shims --------------------------------------------------------------------------------------

FAMILIES = {
    "apt-get": "apt", "apt": "apt", "apk": "apk", "yum": "yum", "dnf": "dnf", "microdnf": "dnf",
    "zypper": "zypper", "pip": "pip", "pip3": "pip", "npm": "npm", "yarn": "yarn", "pnpm": "pnpm",
    "gem": "gem", "conda": "conda", "composer": "composer", "make": "make", "rm": "rm",
}
# actions that print nothing (fixes add, drop or move them): index refreshes and cleanups
QUIET_ACTIONS = frozenset({"update", "clean", "cache", "del", "store", "purge", "autoremove", "autoclean", "remove",
                           "uninstall", "clear-cache"})
CLEANUP_ACTIONS = QUIET_ACTIONS - {"update"}

SHIM = """#!{sh}
family={family}
action=
for a in "$@"; do case $a in -*) ;; *) action=$a; break;; esac; done
printf '%s\\n' "$family $*" >> "$SLIMFILE_SHIM_LOG"
case $family in
  rm) ;;
  make) echo make ;;
  *) case " $action " in {quiet}) ;; *) echo "$family:$action" ;; esac ;;
esac
for a in "$@"; do [ "$a" = bad ] && exit 1; done
case " ${{APT_SHIM_FAIL:-}} " in *" $family:$action "*) exit 1 ;; esac
exit 0
"""


@pytest.fixture(scope="module")
def shims(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("shims")
    quiet = "|".join(f'" {a} "' for a in sorted(QUIET_ACTIONS))
    for name, family in FAMILIES.items():
        path = directory / name
        path.write_text(SHIM.format(sh=SH, family=family, quiet=quiet))
        path.chmod(0o755)
    return directory


# -- executing a Dockerfile ------------------------------------------------------------------------


@dataclass
class Step:
    """One RUN as a builder runs it."""

    script: str
    shell: tuple[str, ...]
    env: dict[str, str]
    cwd: str | None  # WORKDIR, or None for the build's work directory
    text: str  # the RUN's source text (to map merged RUNs back)


@dataclass
class Build:
    lines: list[str] = field(default_factory=list)  # stdout of every RUN up to the stop
    stopped_at: int | None = None  # index of the RUN that failed
    status: int = 0
    log: list[str] = field(default_factory=list)  # the shims' argv log
    steps: list[Step] = field(default_factory=list)


def steps_of(source: str) -> list[Step]:
    """The RUNs of a one-stage Dockerfile with the shell, ENV and WORKDIR each one sees."""
    shell: tuple[str, ...] = ("/bin/sh", "-c")
    env: dict[str, str] = {}
    cwd = None
    steps = []
    for cmd, value, heredocs, text in _instructions(source):
        if cmd == "SHELL":
            shell = tuple(value)
        elif cmd == "ENV":
            env.update(zip(value[0::2], value[1::2]))
        elif cmd == "WORKDIR":
            cwd = value[0]
        elif cmd == "RUN":
            script = value[0]
            if heredocs and script.strip() == f"<<{heredocs[0][0]}":
                script = heredocs[0][1]  # `RUN <<EOF` alone: buildkit runs the body itself
            elif heredocs:
                script += "".join(f"\n{body}{name}" for name, body in heredocs)
            steps.append(Step(script, shell, dict(env), cwd, text))
    return steps


def _instructions(source: str):
    lines = source.splitlines(keepends=True)
    if buildkit is not None:
        for c in buildkit.parse_string(source):
            text = "".join(lines[c.start_line - 1 : c.end_line])
            yield (c.cmd.upper(), c.value, [(h.name, h.content) for h in c.heredocs], text)
        return
    from slimfile.syntax import parse  # pragma: no cover

    tree = parse(source.encode())
    for node in tree.instructions:
        value = node.json if node.json is not None else (node.args_text,)
        if node.name == "ENV":
            value = tuple(x for word in node.args_text.split() for x in word.split("=", 1))
        heredocs = [(h.name, h.body_text()) for h in node.heredocs]
        yield (node.name, value, heredocs, source.encode()[node.start : node.end].decode())


def execute(source: str, shims: Path, work: Path) -> Build:
    build = Build(steps=steps_of(source))
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    log = work.parent / (work.name + ".log")
    log.write_text("")
    for index, step in enumerate(build.steps):
        env = {"PATH": f"{shims}:/usr/bin:/bin", "HOME": "/root", "SLIMFILE_SHIM_LOG": str(log), **step.env}
        done = subprocess.run(
            [*step.shell, step.script],
            cwd=step.cwd or work,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=20,
            check=False,
        )
        build.lines.extend(done.stdout.decode("utf-8", "replace").splitlines())
        if done.returncode != 0:
            build.stopped_at, build.status = index, done.returncode
            break
    build.log = log.read_text().splitlines()
    return build


def echo_numbers(text: str) -> set[str]:
    return set(re.findall(r"\becho (\d{3,})\b", text))


def cleanups(log: list[str]) -> collections.Counter:
    """The cleanup commands a build ran (``apt`` and ``apt-get`` are one family)."""
    found = collections.Counter()
    for line in log:
        family, *args = line.split(" ")
        words = sorted({_glob_result(a) for a in args if not a.startswith("-")})
        if family == "rm" or (words and words[0] in CLEANUP_ACTIONS):
            found[" ".join([family, *words])] += 1
    return found


def _glob_result(arg: str) -> str:
    """``rm -rf /var/lib/apt/lists/*`` expands against this machine's files, which other
    programs may change between the two builds: any file found in such a directory counts as
    one (an unexpanded ``*``, as under ``set -f``, stays different)."""
    for directory in ("/var/lib/apt/lists/", "/var/cache/apk/", "/var/cache/apt/", "/root/.cache/"):
        if arg.startswith(directory) and "*" not in arg:
            return directory + "<file>"
    return arg


def assert_same_behaviour(original: str, fixed: str, shims: Path, work: Path, reordered: bool = False) -> None:
    """``reordered``: a cache-order fix moved independent steps, so the lines come in another
    order (what the image holds does not depend on it); they must be the same lines, or, when
    the build stops, some of them (a failing step moved up stops it before the others ran)."""
    before = execute(original, shims, work)
    after = execute(fixed, shims, work)
    context = f"\n--- original ---\n{original}\n--- fixed ---\n{fixed}"
    if reordered and before.stopped_at is not None:
        assert not collections.Counter(after.lines) - collections.Counter(before.lines), f"stdout differs:\n{before.lines}\n{after.lines}{context}"
    elif reordered:
        assert sorted(after.lines) == sorted(before.lines), f"stdout differs:\n{before.lines}\n{after.lines}{context}"
    else:
        assert after.lines == before.lines, f"stdout differs:\n{before.lines}\n{after.lines}{context}"
    assert after.status == before.status, f"status {before.status} became {after.status}{context}"
    assert (after.stopped_at is None) == (before.stopped_at is None), f"stop differs{context}"
    if before.stopped_at is not None:
        wanted = echo_numbers(before.steps[before.stopped_at].text)
        got = echo_numbers(after.steps[after.stopped_at].text)
        assert wanted <= got, f"the build stops in another RUN: {wanted} not in {got}{context}"
    if reordered and before.stopped_at is not None:
        return  # the build fails either way; steps after the moved failing one never ran
    lost = set(cleanups(before.log)) - set(cleanups(after.log))
    assert not lost, f"cleanups no longer run: {sorted(lost)}{context}"


# -- generating Dockerfiles ---------------------------------------------------------------------------


class Numbers:
    """Unique `echo` numbers per example (three digits: never confused with statuses)."""

    def __init__(self) -> None:
        self.next = 100

    def take(self) -> int:
        self.next += 1
        return self.next


PLAIN = [
    "true", "false", "exit 0", "exit 3", "cd /tmp", "cd ..", "export V=x", "V=y", "unset V", "set -e",
    "set +e", "umask 077", "umask", "f() { echo f; }", "f", 'test -n "$V"', "echo $V", 'echo "${V:-unset}"',
    "pwd", "echo $?", "trap 'echo trapped' EXIT", "exec echo exec", "set -u", "echo ${UNSET}", "set -f",
    "echo /tm*", "set -- a b", "echo $#", "eval 'echo ev'", ". /dev/null", "cd /", "alias e=echo",
]
PACKAGES = [
    "apt-get update", "apt-get install -y ok", "apt-get install -y bad", "apt-get install ok",
    "apt install -y ok", "apt-get -qq install ok", "apt-get install -y --no-install-recommends ok",
    "rm -rf /var/lib/apt/lists/*", "apt-get clean", "apk update", "apk add ok", "apk add bad",
    "apk add gcc musl-dev", "apk add --no-cache ok", "apk add --virtual .deps gcc", "apk del .deps", "make",
    "yum install ok", "yum install -y bad", "dnf install -y ok", "microdnf install ok", "zypper install ok",
    "pip install ok", "pip install bad", "pip3 install --no-cache-dir ok", "npm ci", "npm install bad",
    "yarn install", "pnpm install", "gem install ok", "conda install -y ok", "composer install",
    "rm -rf /root/.cache/pip", "yum clean all",
]


@st.composite
def simple(draw, numbers: Numbers) -> str:
    kind = draw(st.sampled_from(["echo"] * 3 + ["plain"] * 4 + ["package"] * 4 + ["pipe"]))
    if kind == "echo":
        return f"echo {numbers.take()}"
    if kind == "plain":
        return draw(st.sampled_from(PLAIN))
    if kind == "package":
        return draw(st.sampled_from(PACKAGES))
    left = draw(st.sampled_from([f"echo {numbers.take()}", "false", "apt-get install -y ok"]))
    return f"{left} | {draw(st.sampled_from(['cat', 'true', 'false']))}"


@st.composite
def and_or(draw, numbers: Numbers, depth: int) -> str:
    parts = [draw(item(numbers, depth))]
    for _ in range(draw(st.integers(0, 2))):
        parts.append(draw(st.sampled_from(["&&", "&&", "||"])))
        parts.append(draw(item(numbers, depth)))
    return " ".join(parts)


@st.composite
def item(draw, numbers: Numbers, depth: int) -> str:
    if depth >= 2 or draw(st.integers(0, 5)) > 0:
        return draw(simple(numbers))
    body = draw(compound_list(numbers, depth + 1))
    kind = draw(st.sampled_from(["subshell", "brace", "if", "if-else", "for", "not"]))
    if kind == "subshell":
        return f"({body})"
    if kind == "brace":
        return f"{{ {body}; }}"
    if kind == "not":
        return f"! {draw(simple(numbers))}"
    if kind == "for":
        return f"for i in 1 2; do {body}; done"
    condition = draw(simple(numbers))
    if kind == "if":
        return f"if {condition}; then {body}; fi"
    other = draw(compound_list(numbers, depth + 1))
    return f"if {condition}; then {body}; else {other}; fi"


@st.composite
def compound_list(draw, numbers: Numbers, depth: int) -> str:
    parts = [draw(and_or(numbers, depth))]
    for _ in range(draw(st.integers(0, 2))):
        parts.append(draw(and_or(numbers, depth)))
    return "; ".join(parts)


@st.composite
def run_script(draw, numbers: Numbers) -> list[str]:
    """A RUN's top-level items and the operators between them: [item, op, item, ...]."""
    out = [draw(and_or(numbers, 0))]
    for _ in range(draw(st.integers(0, 3))):
        out.append(draw(st.sampled_from(["&&", "&&", "&&", ";", "||"])))
        out.append(draw(and_or(numbers, 0)))
    return out


CLEANUPS = ["rm -rf /var/lib/apt/lists/*", "apt-get clean", "rm -rf /root/.cache/pip", "rm -rf /var/cache/apk/*",
            "yum clean all", "npm cache clean --force", "rm -rf /var/lib/apt/lists/* /tmp/build"]


@st.composite
def small_script(draw, numbers: Numbers) -> list[str]:
    """At most two commands: what the merge pass merges by default."""
    first = draw(simple(numbers))
    shape = draw(st.sampled_from(["one", "two", "two", "compound"]))
    if shape == "one":
        return [first]
    if shape == "two":
        return [first, draw(st.sampled_from(["&&", "&&", ";", "||"])), draw(simple(numbers))]
    inner = draw(st.sampled_from(["(", "{", "if", "for"]))
    second = draw(simple(numbers))
    return [{"(": f"({first}; {second})", "{": f"{{ {first}; {second}; }}", "if": f"if {first}; then {second}; fi",
             "for": f"for i in 1 2; do {first}; {second}; done"}[inner]]


@st.composite
def run_instruction(draw, numbers: Numbers) -> str:
    flags = draw(st.sampled_from(["", "", "", "", "--network=none ", "--mount=type=cache,target=/root/.cache ",
                                  "--mount=type=tmpfs,target=/var/lib/apt/lists "]))
    kind = draw(st.sampled_from(["general"] * 3 + ["small"] * 4 + ["update", "cleanup", "heredoc"]))
    if kind == "heredoc":  # RUN <<EOF: one statement per line
        body = [draw(and_or(numbers, 1)) for _ in range(draw(st.integers(1, 4)))]
        return f"RUN {flags}<<EOF\n" + "\n".join(body) + "\nEOF\n"
    if kind == "update":
        parts = [draw(st.sampled_from(["apt-get update", "apt-get update -qq", "apt update"]))]
    elif kind == "cleanup":
        parts = [draw(st.sampled_from(CLEANUPS))]
        if draw(st.booleans()):
            parts += [draw(st.sampled_from(["&&", ";"])), draw(st.sampled_from(CLEANUPS))]
    elif kind == "small":
        parts = draw(small_script(numbers))
    else:
        parts = draw(run_script(numbers))
    layout = draw(st.sampled_from(["line", "line", "leading", "trailing"]))
    text = parts[0]
    for op, nxt in zip(parts[1::2], parts[2::2]):
        if layout == "line":
            text += f" {op} {nxt}"
            continue
        comment = "    # a note\n" if draw(st.integers(0, 4)) == 0 else ""
        if layout == "leading":
            text += f" \\\n{comment}    {op} {nxt}"
        else:
            text += f" {op} \\\n{comment}    {nxt}"
    ending = draw(st.sampled_from(["", "", "", ";", " # done"]))
    return f"RUN {flags}{text}{ending}\n"


@st.composite
def dockerfiles(draw, failing_updates: bool = False) -> str:
    """``failing_updates``: an ``ENV`` line may make later ``apt-get update``s fail (not with
    unsafe fixes: SF106 adds an update, which may fail where the original went on)."""
    numbers = Numbers()
    base = draw(st.sampled_from(["debian:bookworm", "alpine:3.20", "rockylinux:9", "python:3.12"]))
    out = [f"FROM {base}\n"]
    if draw(st.integers(0, 7)) == 0:
        out.append(draw(st.sampled_from(['SHELL ["/bin/sh", "-ec"]\n', 'SHELL ["/bin/sh", "-e", "-c"]\n'])))
    for index in range(draw(st.integers(1, 5))):
        if index:
            between = draw(st.sampled_from(["", "", "", "\n", "# about the next step\n", "\n# two\n\n",
                                            "ENV V=env\n", "WORKDIR /tmp\n", "COPY . /src\n"]
                                           + ["ENV APT_SHIM_FAIL=apt:update\n"] * failing_updates))
            out.append(between)
        out.append(draw(run_instruction(numbers)))
    return "".join(out)


# -- the tests -------------------------------------------------------------------------------------------


def check_fix(source: str, settings_: Settings, shims: Path, work: Path) -> None:
    result = fix_source(source.encode(), "Dockerfile", settings_)
    fixed = result.output.decode()
    if fixed != source:
        reordered = any(finding.fix is not None and "reorder" in finding.fix.declares for finding in result.applied)
        assert_same_behaviour(source, fixed, shims, work, reordered)


@HYPOTHESIS
@given(dockerfiles(failing_updates=True))
def test_safe_fixes_keep_behaviour(tmp_path_factory, shims, source):
    work = tmp_path_factory.getbasetemp() / "semantics-safe" / "work"
    check_fix(source, Settings(build_context="no-such-context"), shims, work)


@HYPOTHESIS
@given(dockerfiles())
def test_unsafe_fixes_keep_behaviour(tmp_path_factory, shims, source):
    work = tmp_path_factory.getbasetemp() / "semantics-unsafe" / "work"
    check_fix(source, Settings(unsafe_fixes=True, build_context="no-such-context"), shims, work)


@HYPOTHESIS
@given(dockerfiles())
def test_merging_every_run_keeps_behaviour(tmp_path_factory, shims, source):
    work = tmp_path_factory.getbasetemp() / "semantics-merge-all" / "work"
    options = {"merge-runs": "all"}
    check_fix(source, Settings(unsafe_fixes=True, build_context="no-such-context", options=options), shims, work)


# -- the executor itself ----------------------------------------------------------------------------------


def test_executor_stops_at_the_failing_run(shims, tmp_path):
    source = "FROM debian\nRUN echo 101\nENV V=e\nRUN echo $V && apt-get install -y ok && exit 4\nRUN echo 103\n"
    build = execute(source, shims, tmp_path / "work")
    assert build.lines == ["101", "e", "apt:install"]
    assert (build.stopped_at, build.status) == (1, 4)
    assert build.log == ["apt install -y ok"]


def test_executor_runs_heredoc_scripts_and_shell_options(shims, tmp_path):
    source = 'FROM debian\nSHELL ["/bin/sh", "-ec"]\nRUN <<EOF\necho 101\nfalse\necho 102\nEOF\n'
    build = execute(source, shims, tmp_path / "work")
    assert build.lines == ["101"] and build.status == 1


def test_divergence_is_detected(shims, tmp_path):
    with pytest.raises(AssertionError, match="stdout differs"):
        assert_same_behaviour("FROM d\nRUN exit 0; echo 101\n", "FROM d\nRUN (exit 0); echo 101\n", shims, tmp_path / "w")
    with pytest.raises(AssertionError, match="cleanups no longer run"):
        assert_same_behaviour("FROM d\nRUN apt-get clean\n", "FROM d\nRUN true\n", shims, tmp_path / "w")
    with pytest.raises(AssertionError, match="another RUN"):
        assert_same_behaviour("FROM d\nRUN true\nRUN false && echo 102\n", "FROM d\nRUN false && echo 102 || true\nRUN false\n",
                              shims, tmp_path / "w")
