"""What each RUN reads and writes (slimfile/shell/effects.py): the facts that let steps move."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slimfile.analysis.context import Context
from slimfile.engine import Settings
from slimfile.shell.effects import env_always, overlaps, resolve_path, run_effects
from slimfile.syntax.parser import parse


def effects(body: str, workdir: str | None = "/app", env: dict | None = None, home: str | None = "/root"):
    dockerfile = parse(b"FROM debian\nRUN " + body.encode() + b"\n")
    script = Context(dockerfile, Settings()).shell(dockerfile.instructions[1])
    return run_effects(script, workdir=workdir, env=env or {}, home=home)


@pytest.mark.parametrize(
    "body, reads, writes",
    [
        ("mkdir -p /data /var/log/app", set(), {"/data", "/var/log/app"}),
        ("mkdir logs", set(), {"/app/logs"}),
        ("chown -R app:app /srv/data", {"/etc/passwd", "/etc/group"}, {"/srv/data"}),
        ("chmod +x /usr/local/bin/*", set(), {"/usr/local/bin"}),
        ("ln -sf /usr/bin/python3 /usr/bin/python", {"/usr/bin/python3"}, {"/usr/bin/python"}),
        ("cp /etc/a.conf /etc/b.conf", {"/etc/a.conf"}, {"/etc/b.conf"}),
        ("mv /tmp/x /opt/x", {"/tmp/x", "/opt/x"}, {"/tmp/x", "/opt/x"}),
        ("sed -i 's/a/b/' /etc/x.conf", {"/etc/x.conf"}, {"/etc/x.conf"}),
        ("grep -q x /etc/os-release || true", {"/etc/os-release"}, set()),
        ("echo hi > /etc/motd 2>/dev/null", set(), {"/etc/motd"}),
        ("cat < /etc/hosts", {"/etc/hosts"}, set()),
        ("tar -xzf /tmp/a.tgz -C /opt/a", {"/tmp/a.tgz"}, {"/opt/a"}),
        ("tar xzf /tmp/a.tgz", {"/tmp/a.tgz"}, {"/app"}),
        ("unzip -q /tmp/x.zip -d /opt/x", {"/tmp/x.zip"}, {"/opt/x"}),
        ("export P=/opt/tool && mkdir -p $P/bin", set(), {"/opt/tool/bin"}),
        ("echo x >> $HOME/.bashrc", set(), {"/root/.bashrc"}),
        ("cd /tmp && touch marker", {"/tmp"}, {"/tmp/marker"}),
    ],
)
def test_paths_read_and_written(body: str, reads: set, writes: set):
    found = effects(body)
    assert found.unknown is None
    assert set(found.writes) == writes
    assert reads <= set(found.reads)


def test_downloads_write_their_output_or_the_working_directory():
    assert effects("curl -fsSLo /usr/local/bin/x https://h/x").writes == {"/usr/local/bin/x"}
    assert effects("curl -fsSL https://h/x").writes == frozenset()  # prints to stdout
    assert effects("curl -O https://h/x.tgz").writes == {"/app"}
    assert effects("wget -q -O /tmp/x https://h/x").writes == {"/tmp/x"}
    assert effects("wget -q https://h/x").writes == {"/app"}


def test_system_package_managers_read_and_write_the_system():
    found = effects("apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*")
    assert found.unknown is None
    assert {"/usr/bin", "/etc", "/var/lib"} <= found.writes
    assert "DEBIAN_FRONTEND" in found.env
    assert not overlaps(found.writes, {"/app", "/usr/src/app", "/srv/app", "/home/app"})
    assert overlaps(found.writes, {"/var/www/html"})  # apache2 creates it


def test_named_language_installs_write_their_prefix_not_the_project():
    pip = effects("pip install --no-cache-dir gunicorn==22.0")
    assert pip.unknown is None and "/usr/local/lib" in pip.writes and "/root/.cache/pip" in pip.writes
    venv = effects("pip install gunicorn", env={"PATH": "/opt/venv/bin:$PATH"})
    assert "/opt/venv" in venv.writes
    assert effects("npm install -g pm2").unknown is None
    assert effects("yarn global add serve").unknown is None


@pytest.mark.parametrize(
    "body, reason",
    [
        ("./configure && make install", "does not know what `configure`"),
        ("curl -fsSL https://h/install.sh | sh", "does not know what `sh`"),
        ("pip install -r requirements.txt", "not a named package"),
        ("pip install .", "not a named package"),
        ("npm ci", "works on the project"),
        ("npm install express", "installs into the project"),
        ("mkdir -p $UNKNOWN/x", "cannot tell which path"),
        ("mkdir -p $(pwd)/x", "cannot tell which path"),
        ("sudo -u app mkdir /x", "as another user"),
        ("$TOOL run", "computed at run time"),
        ("tar -xz -C /opt", "reads standard input"),
        ("useradd --root /chroot app", "useradd --root"),
    ],
)
def test_unknown_effects_say_why(body: str, reason: str):
    found = effects(body)
    assert found.unknown is not None and reason in found.unknown


def test_a_cd_inside_a_condition_makes_the_directory_unknown():
    assert effects("if true; then cd /x; fi && mkdir y").unknown is not None
    assert effects("if true; then cd /x; fi && mkdir /abs").unknown is None


def test_entering_the_workdir_reads_nothing_and_relative_paths_follow_it():
    found = effects("cd /app && mkdir -p cache")
    assert found.reads == frozenset() or "/app" not in found.reads
    assert found.writes == {"/app/cache"} and found.cwd


def test_relative_paths_without_a_workdir_are_unknown():
    assert effects("mkdir cache", workdir=None).unknown is not None
    assert effects("mkdir /cache", workdir=None).unknown is None


def test_every_program_reads_the_usual_environment():
    assert {"PATH", "HOME", "http_proxy"} <= effects("mkdir /x").env
    assert {"PATH", "HOME"} <= env_always()


@pytest.mark.parametrize(
    "text, cwd, expected",
    [("a/b", "/w", "/w/a/b"), ("/x/../y", None, "/y"), ("/var/lib/apt/lists/*", None, "/var/lib/apt/lists"), ("~/.npm", "/", "/root/.npm"), ("rel", None, None)],
)
def test_resolve_path(text, cwd, expected):
    assert resolve_path(text, cwd, "/root") == expected


def test_overlap_is_containment_either_way_with_globs():
    assert overlaps({"/usr/lib"}, {"/usr/lib/x/y"}) == ("/usr/lib", "/usr/lib/x/y")
    assert overlaps({"/usr/src/linux-*"}, {"/usr/src/linux-headers-6.1"})
    assert not overlaps({"/usr/src/linux-*"}, {"/usr/src/app"})
    assert not overlaps({"/app2"}, {"/app"})


def test_the_overlap_named_is_the_same_whatever_the_set_order():
    """Sets of strings iterate in an order that changes with PYTHONHASHSEED: a message naming
    the clash must not (a PR bot would post a new comment on every run)."""
    writes = {"/run", "/boot", "/bin", "/var"}
    for order in (writes, set(sorted(writes, reverse=True)), frozenset(writes)):
        assert overlaps(order, {"/"}) == ("/bin", "/")


def test_check_output_does_not_depend_on_the_hash_seed(tmp_path):
    """The SF701 refusal names a path from `apk`'s writes: the same one on every run."""
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        "FROM rust:1.89-alpine3.22 AS compiler\nRUN apk add --no-cache build-base\nWORKDIR /\nCOPY . .\n"
        'RUN set -eux; apkArch="$(apk --print-arch)"; cargo build --release\n'
    )
    outputs = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-m", "slimfile", "check", "--isolated", str(dockerfile)],
                              capture_output=True, text=True, env=env)
        assert "SF701" in done.stdout
        outputs.add(done.stdout)
    assert len(outputs) == 1


def test_command_effects_are_kept_per_step_state():
    """A RUN's command effects are walked once per (workdir, variables, home) and kept on its
    model: asked again with the same mapping, the same answer; with another mapping, another
    directory or another home, a walk of their own."""
    from slimfile.shell.effects import command_effects

    dockerfile = parse(b"FROM debian\nRUN mkdir $DIR && mkdir logs && mkdir ~/cache\n")
    script = Context(dockerfile, Settings()).shell(dockerfile.instructions[1])
    first_env, other_env = {"DIR": "/one"}, {"DIR": "/two"}

    def writes(workdir, env, home):
        return [sorted(each.effects.writes) for each in command_effects(script, workdir=workdir, env=env, home=home)]

    once = command_effects(script, workdir="/app", env=first_env, home="/root")
    assert command_effects(script, workdir="/app", env=first_env, home="/root") is once
    assert writes("/app", first_env, "/root") == [["/one"], ["/app/logs"], ["/root/cache"]]
    assert writes("/app", other_env, "/root") == [["/two"], ["/app/logs"], ["/root/cache"]]
    assert writes("/srv", first_env, "/root") == [["/one"], ["/srv/logs"], ["/root/cache"]]
    assert writes("/app", first_env, "/home/app") == [["/one"], ["/app/logs"], ["/home/app/cache"]]


def test_a_variable_that_doubles_in_a_run_stops_being_followed():
    """``export C=$C$C`` doubles C at every command (50: 2**50 bytes): past the expansion
    limits C is unknown and ``touch /$C`` writes somewhere slimfile does not know, while the
    first doublings are exact."""
    from slimfile.shell.expansion import MAX_SUBSTITUTED

    found = effects(" && ".join(["export C=$C$C"] * 3 + ["touch /$C"]), env={"C": "ab"})
    assert "/abababababababab" in found.writes
    found = effects(" && ".join(["export C=$C$C"] * 50 + ["touch /$C"]), env={"C": "ab"})
    assert found.unknown and all(len(path) <= 2 * MAX_SUBSTITUTED for path in found.writes)


def _overlaps_by_contains(a, b):
    """overlaps before the component tuples: _contains both ways for every pair."""
    from slimfile.shell.effects import _contains

    for x in sorted(a):
        for y in sorted(b):
            if _contains(x, y) or _contains(y, x):
                return x, y
    return None


_OVERLAP_PATHS = st.lists(st.sampled_from(["usr", "lib", "li*", "l?b", "[lu]sr", "app", "app2", ""]), max_size=4).map("/".join)


@settings(max_examples=1500, deadline=None)
@given(st.frozensets(_OVERLAP_PATHS, max_size=5), st.frozensets(_OVERLAP_PATHS, max_size=5))
def test_overlaps_by_component_tuples_names_the_pair_contains_finds(a, b):
    """Plain paths are compared as component tuples, globbed ones with fnmatch: the same pair
    (the first in sorted order) as _contains both ways, relative, empty and "//" paths too."""
    assert overlaps(a, b) == _overlaps_by_contains(a, b)


@pytest.mark.parametrize(
    "body, writes",
    [
        # a subshell's `cd` moves its own commands, not what follows it
        ("(cd /tmp && mkdir x) && mkdir y", {"/tmp/x", "/app/y"}),
        ("(cd /tmp; (cd sub; mkdir q); mkdir r); mkdir s", {"/tmp/sub/q", "/tmp/r", "/app/s"}),
        ("echo $(cd /tmp && mkdir c) && mkdir d", {"/tmp/c", "/app/d"}),
        # and its variables end with it: D is not /a after it (the walk kept it)
        ("D=/o; (export D=/a; mkdir $D/x); mkdir $D/y", {"/a/x", "/o/y"}),
        ("D=/o; (unset D; D=/p; mkdir $D/n); mkdir $D/m", {"/p/n", "/o/m"}),
        ("cd /tmp | cat && mkdir w", {"/app/w"}),  # a pipeline's parts are processes too
    ],
)
def test_what_a_subshell_changes_ends_with_it(body, writes):
    assert effects(body).writes == writes


@pytest.mark.parametrize(
    "body",
    [
        "cd /tmp | mkdir w",  # each part of a pipeline is a process of its own
        "if true; then cd /tmp; fi; mkdir v",  # may or may not have moved
        "(if true; then cd /tmp; fi; mkdir v)",
        "f() { cd /tmp; }; mkdir v",
    ],
)
def test_a_cd_that_may_not_reach_what_follows_leaves_the_directory_unknown(body):
    assert effects(body).unknown


_SUBSHELL_PARTS = st.sampled_from(["cd {root}/a", "cd {root}/b", "cd ..", "export D=a", "export D=b", "unset D", "pwd >> {log}", 'echo "$D" >> {log}'])


@st.composite
def _subshell_scripts(draw, depth: int = 0):
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        if depth < 3 and draw(st.integers(0, 3)) == 0:
            inner = draw(_subshell_scripts(depth + 1))
            parts.append(draw(st.sampled_from(["( {} )", "printf %s $( {} ) > /dev/null"])).replace("{}", inner))
        else:
            parts.append(draw(_SUBSHELL_PARTS))
    return " && ".join(parts)


@settings(max_examples=150, deadline=None)
@given(_subshell_scripts())
def test_the_directory_and_variables_of_each_command_are_the_shells(tmp_path_factory, script):
    """Against /bin/sh (what RUN runs): every `pwd` and `echo "$D"` whose directory (the
    effects walk) or D (the cache-order planner's ScriptEnv) slimfile knows prints what
    slimfile says, whatever the subshells and `$( )` before them changed."""
    from slimfile.analysis.steps import ScriptEnv
    from slimfile.shell.effects import command_effects

    root = tmp_path_factory.mktemp("sh")
    (root / "a").mkdir()
    (root / "b").mkdir()
    log = root / "log"
    text = script.replace("{root}", str(root)).replace("{log}", str(log))
    subprocess.run(["/bin/sh", "-c", text], cwd=root, check=True, env={"PATH": os.environ["PATH"]}, capture_output=True)
    printed = log.read_text().splitlines() if log.exists() else []
    dockerfile = parse(b"FROM debian\nRUN " + text.encode() + b"\n")
    model = Context(dockerfile, Settings()).shell(dockerfile.instructions[1])
    variables = ScriptEnv({})
    said = []
    for each in command_effects(model, workdir=str(root), env={}, home="/root"):
        env = variables.at(each.command)
        if each.command.name == "pwd":
            said.append(each.cwd)
        elif each.command.name == "echo":
            said.append(env.get("D", ""))
    assert len(said) == len(printed), (text, printed)
    for known, line in zip(said, printed):
        assert known is None or known == line, (text, said, printed)


_VARIABLES = st.sampled_from(["A", "AB", "A_X", "B", "A_*", "A*", "*", "@WORKDIR", "PIP_INDEX_URL", "PIP_*", "LC_ALL", "LC_*"])


def _env_overlap_by_pairs(reads, names):
    """env_overlap as it was: every read pattern tried on every name."""
    for name in sorted(names):
        for pattern in sorted(reads):
            if pattern == name or (pattern.endswith("*") and name.startswith(pattern[:-1])):
                return name
    return None


@settings(max_examples=500, deadline=None)
@given(st.frozensets(_VARIABLES, max_size=6), st.frozensets(_VARIABLES, max_size=4))
def test_env_overlap_from_an_index_names_what_every_pair_names(reads, names):
    """The cache-order plan asks each ENV and ARG line against the variables of every moved
    RUN, made into an index once (n x n pairs before); the name found is the same."""
    from slimfile.shell.effects import EnvReads, env_overlap

    expected = _env_overlap_by_pairs(reads, names)
    assert env_overlap(reads, names) == expected
    assert env_overlap(EnvReads(reads), names) == expected


_TRIE_PATHS = st.lists(st.sampled_from(["a", "b", "ab", "a*", "*", "b?", "[ab]", "c"]), max_size=3).map(lambda parts: "/" + "/".join(parts))


@settings(max_examples=1000, deadline=None)
@given(st.lists(_TRIE_PATHS, max_size=8), st.lists(_TRIE_PATHS, min_size=1, max_size=4))
def test_the_first_overlap_of_a_trie_is_the_first_path_overlaps_names(held, asked):
    """PathTrie.first_overlap gives the smallest order among the paths held that contain or
    lie in the path asked about, globs either side, as overlaps() decides it path by path."""
    from slimfile.shell.effects import NO_ORDER, PathTrie, overlaps

    trie = PathTrie()
    for order, path in enumerate(held):
        trie.add(path, order)
    for path in asked:
        expected = next((order for order, other in enumerate(held) if overlaps([path], [other])), NO_ORDER)
        assert trie.first_overlap(path) == expected
        assert trie.overlaps(path) == (expected != NO_ORDER)
