"""Steps as facts: the state each instruction runs in, its effects, and when two commute."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slimfile.analysis.context import Context
from slimfile.analysis.steps import SHELL, USER, WORKDIR, StepEffects, commute, stage_steps
from slimfile.analysis.summary import reorder_differences
from slimfile.engine import Settings
from slimfile.syntax.edits import Edit
from slimfile.syntax.parser import parse


def steps_of(text: str, stage: int = -1):
    dockerfile = parse(text.encode())
    ctx = Context(dockerfile, Settings())
    return {step.instruction.start_line: step for step in stage_steps(ctx, dockerfile.stages.stages[stage])}


def test_the_fold_keeps_workdir_user_and_variables():
    steps = steps_of(
        "ARG BASE=/srv\nFROM debian\nARG BASE\nWORKDIR $BASE/app\nENV MODE=prod TOOL=/opt/t\nWORKDIR sub\nUSER app\n"
        "ENV PATH=/opt/venv/bin:$PATH\nRUN true\n"
    )
    state = steps[9].state
    assert state.workdir == "/srv/app/sub"
    assert state.user == "app" and state.home is None
    assert state.env["MODE"] == "prod" and state.env["BASE"] == "/srv"
    assert state.env["PATH"] == "/opt/venv/bin:$PATH"  # partly known: the image's own PATH


def test_a_global_arg_declared_again_without_a_value_is_unknown():
    """Docker 20.10's BuildKit empties a global ARG declared again without a value (`ARG
    D=/srv`, `ARG D`: `$D` is empty in the stage, checked with a real build): the steps and
    the FROM images read one table of the global defaults, where such a name is unknown (the
    steps kept `/srv`)."""
    steps = steps_of("ARG D=/srv\nARG D\nARG K=/opt\nFROM debian\nARG D\nARG K\nWORKDIR $D/app\nWORKDIR $K\nRUN true\n")
    assert steps[8].state.workdir is None
    assert steps[9].state.workdir == "/opt"


def test_stages_built_from_a_stage_inherit_its_state():
    steps = steps_of("FROM debian AS base\nWORKDIR /app\nENV A=1\nFROM base\nRUN mkdir x\n")
    (only,) = steps.values()
    assert only.state.workdir == "/app" and only.state.env == {"A": "1"}
    assert only.effects.writes == {"/app/x"}


def test_the_home_of_the_running_user():
    """root's is /root; an official image's own user has the home the image made for it (by
    name or uid, also in a stage built from that stage); ENV HOME wins; a user the Dockerfile
    creates, or a HOME set to an unknown value, is unknown."""
    steps = steps_of("FROM node:20\nRUN a\nUSER node\nRUN b\nUSER 1000:1000\nRUN c\nUSER app\nRUN d\n")
    assert [steps[n].state.home for n in (2, 4, 6, 8)] == ["/root", "/home/node", "/home/node", None]
    child = steps_of("FROM node:20 AS base\nUSER node\nFROM base\nRUN x\n")
    assert [s.state.home for s in child.values()] == ["/home/node"]
    assert steps_of("FROM debian\nUSER node\nRUN x\n")[3].state.home is None  # not debian's user
    assert steps_of("FROM debian\nENV HOME=/srv/home\nRUN x\n")[3].state.home == "/srv/home"
    assert steps_of("FROM node:20\nARG H\nENV HOME=$H\nUSER node\nRUN x\n")[5].state.home is None


@pytest.mark.parametrize(
    "run, user, home",
    [
        ("useradd -m app", "app", "/home/app"),
        ("groupadd -g 1001 g && useradd -u 1001 -g g -d /srv/app -m app", "1001:1001", "/srv/app"),
        ("useradd --base-dir=/users app", "app", "/users/app"),
        ("adduser -D -h /data app", "app", "/data"),  # busybox
        ("adduser --disabled-password app", "app", "/home/app"),  # Debian
        ("adduser --system app", "app", None),  # Debian: /nonexistent; busybox -S differs
        ("adduser app staff", "app", None),  # Debian: adds an existing user to a group
        ("useradd -m $NAME", "app", None),
        ("useradd -D -b /x", "app", None),  # sets defaults, creates no one
        ("useradd -m app && usermod -d /opt/app app", "app", "/opt/app"),
        ("usermod -d $DIR node", "node", None),
    ],
)
def test_the_home_a_run_gives_a_user(run: str, user: str, home):
    steps = steps_of(f"FROM node:20\nRUN {run}\nUSER {user}\nRUN x\n")
    assert steps[4].state.home == home


def test_instruction_effects():
    steps = steps_of(
        "FROM debian\nWORKDIR /app\nCOPY --chown=app . .\nCOPY --from=build /out /usr/local/bin/\nENV A=$B\n"
        "USER app\nSHELL [\"/bin/bash\", \"-c\"]\nVOLUME /data\nLABEL v=$VERSION\nEXPOSE 80\nRUN mkdir /x\n"
    )
    assert steps[3].effects.writes == {"/app"} and "/etc/passwd" in steps[3].effects.reads and WORKDIR in steps[3].effects.env_reads
    assert steps[4].effects.writes == {"/usr/local/bin"}
    assert steps[5].effects.env_writes == {"A"} and steps[5].effects.env_reads == {"B"}
    assert steps[6].effects.env_writes == {USER}
    assert steps[7].effects.env_writes == {SHELL}
    assert steps[8].effects.writes == {"/data"}
    assert steps[9].effects.env_reads == {"VERSION"}
    assert {USER, SHELL} <= steps[11].effects.env_reads


def test_commute():
    copy = StepEffects(writes=frozenset({"/app"}))
    apt = StepEffects(reads=frozenset({"/etc"}), writes=frozenset({"/etc", "/usr/lib"}), env_reads=frozenset({USER}))
    assert commute(apt, copy) is None
    assert "writes /app" in commute(StepEffects(writes=frozenset({"/app/logs"})), copy)
    assert commute(apt, StepEffects(env_writes=frozenset({USER}))) is not None
    assert commute(StepEffects(env_reads=frozenset({"DEBIAN_*"})), StepEffects(env_writes=frozenset({"DEBIAN_FRONTEND"})))
    assert commute(StepEffects.unknowable("x"), copy) == "x"
    assert commute(StepEffects(env_writes=frozenset({"A"})), StepEffects(env_writes=frozenset({"A"}))) is not None


def test_reorder_guard_accepts_declared_moves_and_additions():
    before = parse(b"FROM x\nWORKDIR /app\nCOPY . .\nENV A=1\nRUN a\n")
    after = parse(b"FROM x\nWORKDIR /app\nENV A=1\nCOPY a.txt ./\nRUN a\nCOPY . .\n")
    assert reorder_differences(before, after, ["COPY a.txt ./"]) == []


def test_reorder_guard_refuses_what_was_not_declared():
    before = parse(b"FROM x\nWORKDIR /app\nCOPY . .\nENV A=1\nENV A=2\nRUN a\n")
    moved_copy = parse(b"FROM x\nCOPY . .\nWORKDIR /app\nENV A=1\nENV A=2\nRUN a\n")
    assert any("changed order" in p for p in reorder_differences(before, moved_copy, []))
    swapped_env = parse(b"FROM x\nWORKDIR /app\nCOPY . .\nENV A=2\nENV A=1\nRUN a\n")
    assert any("ENV/ARG values" in p for p in reorder_differences(before, swapped_env, []))
    undeclared = parse(b"FROM x\nWORKDIR /app\nCOPY a.txt ./\nCOPY . .\nENV A=1\nENV A=2\nRUN a\n")
    assert any("appeared or disappeared" in p for p in reorder_differences(before, undeclared, []))
    missing = parse(b"FROM x\nWORKDIR /app\nCOPY . .\nENV A=1\nENV A=2\nRUN a\n")
    assert "a declared new instruction is missing" in reorder_differences(before, missing, ["COPY b ./"])


def test_reorder_guard_reads_added_text_like_the_parser():
    before = parse(b'FROM x\nCOPY --chown="$U:0" . /app/\nRUN a\n')
    after = parse(b'FROM x\nCOPY --chown="$U:0" package.json /app/\nRUN a\nCOPY --chown="$U:0" . /app/\n')
    assert reorder_differences(before, after, ['COPY --chown="$U:0" package.json /app/']) == []
    tick = parse(b'# escape=`\nFROM x\nCOPY . /app/\nRUN a\n')
    tick_after = parse(b'# escape=`\nFROM x\nCOPY ["a b", "/app/"]\nRUN a\nCOPY . /app/\n')
    assert reorder_differences(tick, tick_after, ['COPY ["a b", "/app/"]']) == []


def test_reorder_guard_reads_instructions_as_the_rounds_other_fixes_leave_them():
    """A fix of the round that edits a trigger where it stands (``in_place``) is not a trigger
    that disappeared; a trigger that moves still is, and a line inserted below an instruction
    does not edit it."""
    before = parse(b"FROM x\nCOPY . .\nRUN a\nONBUILD RUN apt-get install -y p0\nONBUILD RUN apt-get install -y p1\nRUN b\n")
    flag = before.source.index(b"-y p0")  # --no-install-recommends goes before -y, in both triggers
    second = before.source.index(b"-y p1")
    edits = [Edit.insert(flag, b"--no-install-recommends "), Edit.insert(second, b"--no-install-recommends ")]
    after = parse(
        b"FROM x\nRUN a\nCOPY . .\nONBUILD RUN apt-get install --no-install-recommends -y p0\n"
        b"ONBUILD RUN apt-get install --no-install-recommends -y p1\nRUN b\n"
    )
    assert any("appeared or disappeared" in p for p in reorder_differences(before, after, []))
    assert reorder_differences(before, after, [], edits) == []
    swapped = parse(
        b"FROM x\nRUN a\nCOPY . .\nONBUILD RUN apt-get install --no-install-recommends -y p1\n"
        b"ONBUILD RUN apt-get install --no-install-recommends -y p0\nRUN b\n"
    )
    assert any("changed order" in p for p in reorder_differences(before, swapped, [], edits))
    below = before.source.index(b"RUN b")  # the start of the line after the second trigger
    inserted = parse(before.source[:below] + b"RUN c\n" + before.source[below:])
    assert reorder_differences(before, inserted, [], [Edit.insert(below, b"RUN c\n")]) == []


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["ENV", "ARG", "RUN"]), st.sampled_from(["A", "B", "C"]), st.sampled_from(["1", "$A", "", None])), max_size=12),
       st.booleans())
def test_each_step_sees_the_variables_a_plain_fold_gives(lines, child_stage):
    """The per-step variables are views of one timeline per stage (no copy per step): they
    equal what folding a dict line by line gives, in a stage and in a stage built FROM it."""
    text, expected, wanted = ["FROM debian:12 AS base\n"], [], {}
    for keyword, name, value in lines:
        expected.append(dict(wanted))
        if keyword == "RUN":
            text.append("RUN true\n")
        elif value is None:
            text.append(f"ARG {name}\n") if keyword == "ARG" else text.append("RUN true\n")
            if keyword == "ARG":
                wanted.pop(name, None)
        else:
            text.append(f"{keyword} {name}={value}\n")
            wanted[name] = value.replace("$A", wanted["A"]) if "$A" in value and "A" in wanted else value
    if child_stage:
        text.append("FROM base\nRUN true\n")
    steps = steps_of("".join(text), stage=0)  # by line: the lines are 2, 3, ...
    assert [dict(steps[line].state.env) for line in range(2, 2 + len(lines))] == expected
    if child_stage:
        (child,) = steps_of("".join(text)).values()
        assert dict(child.state.env) == wanted


def test_values_that_double_stop_being_followed():
    """``ARG A=$A$A`` doubles A at every line (60 lines: 2**60 bytes). Past the expansion
    limits A is unknown, a value no analysis follows, and what was kept stays within the
    budget; the values before that point are exact."""
    from slimfile.shell.expansion import MAX_SUBSTITUTED

    doublings = "".join("ARG A=$A$A\n" for _ in range(60))
    steps = steps_of(f"ARG G=x\n{doublings.replace('A', 'G')}FROM debian\nARG A=x\n{doublings}ENV B=$A/bin\nRUN true\n")
    lines = sorted(steps)
    assert steps[lines[2]].state.env["A"] == "xx"  # after the first doubling: exact
    assert "A" not in steps[lines[-1]].state.env and "B" in steps[lines[-1]].state.env
    assert steps[lines[-1]].state.env["B"] == "$A/bin"  # unknown A is left as written
    longest = max(len(step.state.env.get("A") or "") for step in steps.values())
    assert MAX_SUBSTITUTED <= longest <= 2 * MAX_SUBSTITUTED


def test_a_long_value_read_everywhere_is_kept_only_within_the_budget():
    """Every `ENV Vk=$LONG` copies LONG: the values kept from expansions grow by at most
    ``BUDGET_PER_BYTE`` bytes per byte of the file, then are unknown."""
    from slimfile.shell.expansion import BUDGET_PER_BYTE, MAX_SUBSTITUTED

    long_value = "y" * 15_000
    text = f"FROM debian\nENV LONG={long_value}\n" + "".join(f"ENV V{k}=$LONG\n" for k in range(3_000)) + "RUN true\n"
    steps = steps_of(text)
    env = steps[max(steps)].state.env
    kept = sum(len(env.get(f"V{k}") or "") for k in range(3_000))
    assert 0 < kept <= BUDGET_PER_BYTE * len(text) + MAX_SUBSTITUTED
    assert env.get("V0") == long_value and "V2999" not in env


def test_a_working_directory_longer_than_path_max_is_unknown():
    """A chain of relative WORKDIRs makes a longer path at every line (n lines, n² bytes
    kept); past Linux's PATH_MAX the build cannot make the directory, and the fold stops
    following it. Before that it is exact, and an absolute WORKDIR makes it known again."""
    from slimfile.analysis.steps import PATH_MAX

    chain = "".join(f"WORKDIR d{k:04}\n" for k in range(1_000))  # 6 bytes a line: 6,000 at the end
    steps = steps_of(f"FROM debian\nWORKDIR /\n{chain}RUN true\nWORKDIR /srv\nRUN true\n")
    lines = sorted(steps)
    workdirs = [steps[line].state.workdir for line in lines]
    assert workdirs[3] == "/d0000/d0001"
    known = [w for w in workdirs if w is not None]
    assert max(len(w) for w in known) < PATH_MAX
    assert workdirs[lines.index(1_003)] is None  # RUN true after the chain
    assert workdirs[-1] == "/srv"
    assert workdirs.index(None) == (PATH_MAX - 1) // 6 + 2  # the first WORKDIR past the limit (after FROM, WORKDIR /)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet="ab./", max_size=8).filter(lambda t: t.strip()), min_size=1, max_size=12))
def test_the_final_working_directory_is_the_one_normpath_gives(texts):
    """image_config follows WORKDIRs with a stack of components (linear in the file), and
    gives the path that joining and normalising at every line gives (leading slashes made
    one, as Docker's Clean does)."""
    import posixpath

    from slimfile.analysis.summary import image_config

    expected = "/"
    for text in texts:
        expected = posixpath.normpath(posixpath.join(expected, text))
    expected = "/" + expected.lstrip("/")
    text = "FROM debian\n" + "".join(f"WORKDIR {t}\n" for t in texts)
    assert image_config(parse(text.encode()))["WorkingDir"] == expected


_PATHS = st.lists(st.sampled_from(["a", "b", "ab", "ba", "a*", "ab*", "*", "b?", "[ab]", "c"]), max_size=3).map(lambda parts: "/" + "/".join(parts))
_NAMES = st.sampled_from(["A", "AB", "A_X", "B", "A_*", "A*", "*", "@WORKDIR"])
_EFFECTS = st.builds(
    StepEffects,
    reads=st.frozensets(_PATHS, max_size=3),
    writes=st.frozensets(_PATHS, max_size=3),
    env_reads=st.frozensets(_NAMES, max_size=3),
    env_writes=st.frozensets(_NAMES, max_size=2),
    unknown=st.sampled_from([None, None, None, None, "a network install"]),
)


@settings(max_examples=1500, deadline=None)
@given(st.lists(_EFFECTS, max_size=8), st.lists(_EFFECTS, min_size=1, max_size=4))
def test_the_passed_steps_find_the_blocker_commute_finds(staying, moves):
    """PassedSteps answers from what the steps use taken together, and tries them one by one
    only when one of them clashes: the blocker is the one the walk with commute finds, for
    paths with globs either side, prefixes of variables (``A_*``) and unknown effects."""
    from slimfile.analysis.steps import PassedSteps, Step

    steps = []
    for effects in staying:
        step = Step(None, None, None)  # type: ignore[arg-type]
        step._effects = effects
        steps.append(step)
    passed = PassedSteps()
    for count in range(len(steps) + 1):  # asked before each step is added, and after the last
        for move in moves:
            expected = next((other for other in steps[:count] if commute(move, other.effects)), None)
            assert passed.first_blocker(move) is expected
        if count < len(steps):
            passed.add(steps[count])


def test_a_glob_is_tried_only_on_the_names_it_can_match_and_sees_names_added_later():
    """A glob asked about (``/usr/lib/python3*``) is tried on the names that start with its
    literal part (thousands of /usr/lib/fK written by steps that stay made every pip install
    that moves try each), and on the glob names; names added after a first question count."""
    from slimfile.shell.effects import PathTrie

    trie = PathTrie()
    for k in range(1_000):
        trie.add(f"/usr/lib/f{k}")
    assert not trie.overlaps("/usr/lib/python3*/site-packages")
    lib = trie.children["usr"].children["lib"]
    assert lib.by_prefix[7].get("python3") is None  # "python3": the names tried, none
    trie.add("/usr/lib/python3.11/site-packages/x")
    assert trie.overlaps("/usr/lib/python3*/site-packages")
    assert not trie.overlaps("/usr/lib/python3*/dist-packages")
    trie.add("/usr/lib/py*")
    assert trie.overlaps("/usr/lib/python3*/dist-packages")  # a glob name matches the glob asked


def _reference(env, name: str) -> tuple[bool, object]:
    """The layers of an environment read one by one, as before the timelines kept what their
    base says: (set by a layer, the nearest layer's value)."""
    from slimfile.analysis.steps import CommandEnv, EnvAt

    if isinstance(env, CommandEnv):
        return (True, env.local[name]) if name in env.local else _reference(env.base, name)
    if isinstance(env, EnvAt):
        local, value = env._lookup(name)
        return (True, value) if local else _reference(env.timeline.base, name)
    return (True, env[name]) if name in env else (False, None)


ENV_NAMES = ["A", "B", "C", "D"]
ENV_VALUES = st.sampled_from(["x", "y", None, "unset"])


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(st.sampled_from(ENV_NAMES), st.sampled_from(["x", "y"]), max_size=2),
    st.lists(st.one_of(
        st.tuples(st.just("timeline"), st.lists(st.lists(st.tuples(st.sampled_from(ENV_NAMES), ENV_VALUES), max_size=2), min_size=1, max_size=3)),
        st.tuples(st.just("command"), st.dictionaries(st.sampled_from(ENV_NAMES), st.sampled_from(["z", None]), max_size=2)),
    ), max_size=6),
    st.lists(st.tuples(st.integers(0, 20), st.sampled_from(ENV_NAMES)), max_size=30),
)
def test_layered_variables_read_as_their_layers_say(bottom, layers, questions):
    """Timelines over timelines and commands' own variables, asked in any order (what a
    timeline's base says is kept once asked): each answer is the layers' read one by one."""
    from slimfile.analysis.steps import UNSET, CommandEnv, EnvAt, EnvTimeline, is_set

    views: list = [bottom]
    for kind, spec in layers:
        base = views[-1]
        if kind == "command":
            views.append(CommandEnv(base, spec))
            continue
        timeline = EnvTimeline(base)
        for values in spec:
            timeline.head += 1
            for name, value in values:
                timeline.set(name, UNSET if value == "unset" else value)
            views.append(EnvAt(timeline, timeline.head))
        views.append(EnvAt(timeline, 0))  # before its first line: the base's
    for which, name in questions:
        env = views[which % len(views)]
        found, value = _reference(env, name)
        assert is_set(env, name) == (found and value is not UNSET)
        present = found and value is not None and value is not UNSET
        assert (name in env) == present
        assert env.get(name) == (value if present else None)
