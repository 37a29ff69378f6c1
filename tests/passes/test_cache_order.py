"""SF701/SF703's fix: what it writes above the copy (the whole edits are in the fixtures under
fixtures/passes/SF701-copy-manifests-first/ and SF703-*)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slimfile.analysis.install_model import Install
from slimfile.analysis.steps import StepEffects
from slimfile.passes.cache_order import Move, _CopiedManifests, _files_key, _SameReads

LOCK = b"COPY package.json package-lock.json ./\n"
MEMBER = b"COPY packages/api/package.json ./packages/api/\n"


MANIFESTS = ("/app/package.json", "/app/package-lock.json", "/app/packages/api/package.json")


def _install_move(writes: frozenset[str] = frozenset(), unknown: str | None = None, reads: tuple[str, ...] = MANIFESTS) -> Move:
    install = Install("npm", None, reads, ("/app/node_modules",))  # type: ignore[arg-type]
    return Move(None, StepEffects(writes=writes | {"/app/node_modules"}, unknown=unknown), [install])  # type: ignore[arg-type]


def lines(*made: bytes):
    return lambda: list(made)


def test_a_second_install_of_the_same_project_copies_nothing_again():
    copied = _CopiedManifests()
    first = _install_move()
    assert copied.lines_for(first, lines(LOCK, MEMBER)) == [LOCK, MEMBER]
    copied.after(first)
    again = _install_move()
    assert copied.lines_for(again, lines(LOCK, MEMBER)) == []
    copied.after(again)
    other = _install_move(reads=("/app/package.json", "/app/packages/web/package.json"))
    web = b"COPY packages/web/package.json ./packages/web/\n"
    assert copied.lines_for(other, lines(LOCK, web)) == [web]


def test_an_install_of_the_very_files_already_copied_is_not_looked_at_again():
    """n installs of a project of m workspace members made n x m COPY lines (then dropped all
    but m) and added every member to the trie n times: the lines are not even made again."""
    copied = _CopiedManifests()
    copied.lines_for(_install_move(), lines(LOCK, MEMBER))
    copied.after(_install_move())

    def fail() -> list[bytes]:
        raise AssertionError("the lines of the same reads were made again")

    assert copied.lines_for(_install_move(), fail) == []


def test_the_manifests_are_copied_again_after_a_step_that_writes_into_them():
    """A moved step that rewrites a manifest (or whose writes are unknown) runs between the
    two installs: the second gets the files from the context again, as before the move."""
    for between in (_install_move(writes=frozenset({"/app/package-lock.json"})), _install_move(writes=frozenset({"/app"})), _install_move(unknown="a network install")):
        copied = _CopiedManifests()
        copied.lines_for(_install_move(), lines(LOCK, MEMBER))
        copied.after(between)
        assert copied.lines_for(_install_move(), lines(LOCK, MEMBER)) == [LOCK, MEMBER]


def test_the_installs_of_one_project_share_one_tuple_and_one_set_of_reads(tmp_path):
    """n installs of a project of m workspace members copied the m manifests for each install
    (a tuple, then a set, then the union with the RUN's other effects): 5,000 of each took 15 s,
    work done in C that a count of Python lines does not see. Now one tuple per project and
    copy, and a union with an empty side is that side itself."""
    import json

    from slimfile.analysis.build_context import BuildContext
    from slimfile.analysis.install_model import CopyMap
    from slimfile.analysis.installs import _project_reads
    from slimfile.analysis.manifests import read_package_json
    from slimfile.shell.effects import Effects

    (tmp_path / "package.json").write_text(json.dumps({"name": "root", "workspaces": ["packages/*"]}))
    for name in ("a", "b"):
        (tmp_path / "packages" / name).mkdir(parents=True)
        (tmp_path / "packages" / name / "package.json").write_text(json.dumps({"name": name}))
    files = BuildContext(tmp_path)
    package = read_package_json(files, "package.json")
    first = _project_reads("npm", package, "/app", files, CopyMap("", "/app"))
    again = _project_reads("npm", package, "/app", files, CopyMap("", "/app"))
    assert first is again and "/app/packages/b/package.json" in first[0]
    reads = first[1]
    assert reads == frozenset(first[0])
    assert (Effects(env=frozenset({"HOME"})) | Effects(reads=reads)).reads is reads
    assert (Effects(reads=reads) | Effects(reads=reads)).reads is reads


class _CountedReads(tuple):
    """A tuple of reads that counts how often it is walked (``set(t)``, ``for``, ``in``)."""

    walks = 0

    def __iter__(self):
        _CountedReads.walks += 1
        return super().__iter__()

    def __contains__(self, item):
        _CountedReads.walks += 1
        return super().__contains__(item)


@pytest.mark.parametrize("home", ["ENV HOME=/root", "ENV HOME=/app"])
def test_the_shared_reads_are_walked_once_per_project_not_once_per_install(tmp_path, monkeypatch, home):
    """Each install asked whether a file it reads outside its manifests (``$HOME/.npmrc``) is
    one of them with a set made from the shared tuple of the workspace's m manifests: n x m
    over n installs (a 4 MiB file of 91,000 installs over 91,000 members took more than 300 s;
    4,000 of each 16 s, 8,000 of each 36 s). The walks of that tuple do not grow with n now."""
    import json

    from slimfile.analysis import installs
    from slimfile.engine import Settings, check_source, fix_source

    listed = installs._list_project_reads
    monkeypatch.setattr(installs, "_list_project_reads", lambda *a: _CountedReads(listed(*a)))
    (tmp_path / "package.json").write_text(json.dumps({"name": "root", "workspaces": ["packages/*"]}))
    (tmp_path / ".npmrc").write_text("fund=false\n")  # with HOME=/app, read as $HOME/.npmrc too
    for name in ("a", "b", "c"):
        (tmp_path / "packages" / name).mkdir(parents=True)
        (tmp_path / "packages" / name / "package.json").write_text(json.dumps({"name": name}))
    settings = Settings(build_context=str(tmp_path))
    walks = []
    for installs_count in (5, 20):
        body = [f"RUN npm install\nRUN echo {i} > /tmp/f{i}" for i in range(installs_count)]
        source = "\n".join(["FROM node:20", "WORKDIR /app", home, "COPY . .", *body, ""]).encode()
        _CountedReads.walks = 0
        check_source(source, str(tmp_path / "Dockerfile"), settings)
        result = fix_source(source, str(tmp_path / "Dockerfile"), settings)
        walks.append(_CountedReads.walks)
        assert any(f.rule.code == "SF701" for f in result.applied)  # the installs are read and move
    assert walks[1] == walks[0], walks


class _CountedHashes(tuple):
    """A tuple that counts how often it is hashed (CPython does not keep a tuple's hash)."""

    count = 0

    def __hash__(self) -> int:
        type(self).count += 1
        return tuple.__hash__(self)


def test_the_reads_many_installs_share_are_hashed_once_not_per_install():
    """Sets and dicts keyed by an install's reads hashed its m paths at each of n installs:
    20,000 installs of a workspace of 10,000 members spent minutes in C (workspace-installs
    at 100,000 lines: check 232 s, x38 for x10 the input). Equal reads still count as the
    same (a message lists them once)."""
    reads = _CountedHashes(MANIFESTS)
    copied = _CopiedManifests()
    for _ in range(100):
        move = _install_move(reads=reads)
        copied.lines_for(move, lines(LOCK, MEMBER))
        copied.after(move)
        hash(_files_key(move.installs[0]))
    same = _SameReads()
    keys = {same.key(reads) for _ in range(100)}
    assert _CountedHashes.count <= 2
    assert keys == {same.key(MANIFESTS[:1] + MANIFESTS[1:])} and same.key(("/app/package.json",)) not in keys


WORKSPACE_DOCKERFILE = 'FROM node:18-slim\nWORKDIR /app\nCOPY . .\nRUN npm install\nCMD ["node", "index.js"]\n'


def _workspace(root, folders: list[str]) -> None:
    """An npm workspace project whose members live in ``packages/<folder>``."""
    import json

    (root / "Dockerfile").write_text(WORKSPACE_DOCKERFILE)
    (root / "package.json").write_text(json.dumps({"name": "root", "version": "1.0.0", "private": True, "workspaces": ["packages/*"]}))
    for number, folder in enumerate(folders):
        member = root / "packages" / folder
        member.mkdir(parents=True)
        (member / "package.json").write_text(json.dumps({"name": f"p{number}", "version": "1.0.0"}))


def test_manifest_copies_name_odd_folders_as_buildkit_reads_them(tmp_path):
    """BuildKit reads each COPY argument as a shell word, in the JSON form too: a member folder
    named ``d$x``, ``q"uote`` or ``it's`` was written into the JSON form as it is, and the
    rewrite did not build ("not found", "unexpected end of statement"; the zoo's engine).
    Quotes, ``$`` and the escape character are escaped with the file's escape character
    (tests/verify/test_copy_names_build.py builds and verifies it)."""
    from slimfile.engine import Settings, fix_source

    _workspace(tmp_path, ["d$x", 'q"uote', "it's", "sp ace", "plain"])
    dockerfile = tmp_path / "Dockerfile"
    result = fix_source(dockerfile.read_bytes(), str(dockerfile), Settings(select=("SF701",)))
    assert result.output.decode().splitlines()[2:9] == [
        "COPY package.json ./",
        'COPY ["packages/d\\\\$x/package.json", "./packages/d\\\\$x/"]',
        'COPY ["packages/it\\\\\'s/package.json", "./packages/it\\\\\'s/"]',
        "COPY packages/plain/package.json ./packages/plain/",
        'COPY ["packages/q\\\\\\"uote/package.json", "./packages/q\\\\\\"uote/"]',
        'COPY ["packages/sp ace/package.json", "./packages/sp ace/"]',
        "RUN npm install",
    ]


def test_the_escape_directive_escapes_with_its_own_character():
    from slimfile.restructure.moves import copy_arguments
    from slimfile.syntax.parser import parse

    backtick = parse(b"# escape=`\nFROM x\n")
    assert copy_arguments(backtick, ["a$b/x", "c`d\\e/"]) == '["a`$b/x", "c``d\\\\e/"]'
    assert copy_arguments(parse(b"FROM x\n"), ["a$b/x", "c`d/"]) == '["a\\\\$b/x", "c`d/"]'
    assert copy_arguments(parse(b"FROM x\n"), ["src/app.py", "./"]) == "src/app.py ./"


def test_a_member_folder_copy_cannot_name_is_not_moved_and_says_why(tmp_path):
    """``*``, ``?``, ``[`` and ``\\`` are read as a pattern by COPY (``back\\slash``: "not found"
    on the zoo's engine), a line break has no place in an instruction: the install stays,
    and the finding says why."""
    from slimfile.engine import Settings, check_source

    _workspace(tmp_path, ["good", "back\\slash"])
    dockerfile = tmp_path / "Dockerfile"
    [finding] = [f for f in check_source(dockerfile.read_bytes(), str(dockerfile), Settings()) if f.rule.code == "SF701"]
    assert finding.fix is None
    assert finding.message.endswith(
        "not moved: packages/back\\slash/package.json: slimfile writes no COPY of a path holding a line break, "
        "`*`, `?`, `[` or `\\` (BuildKit reads the last four as a pattern)"
    )


@pytest.mark.parametrize(
    ("workspaces", "why"),
    [
        (5, "package.json's `workspaces` is not a list of folder patterns"),
        ("packages/*", "package.json's `workspaces` is not a list of folder patterns"),
        ({"packages": 5}, "package.json's `workspaces` is not a list of folder patterns"),
        (["packages/*", 5], "package.json's `workspaces` is not a list of folder patterns"),
        (["../shared/*"], "workspace pattern `../shared/*` names folders outside the build context"),
        (["/srv/*"], "workspace pattern `/srv/*` names folders outside the build context"),
    ],
)
def test_workspaces_that_cannot_be_read_are_not_moved_and_say_why(tmp_path, workspaces, why):
    """A ``workspaces`` that is not a list of folder patterns was read as none, and the move
    copied package.json alone: which member manifests the install reads was not known. A
    pattern above the project was cut to the context's root (``../shared/*`` read as
    ``shared/*``), a folder of the context the install never reads."""
    import json

    from slimfile.engine import Settings, check_source

    _workspace(tmp_path, ["a"])
    (tmp_path / "shared" / "x").mkdir(parents=True)
    (tmp_path / "shared" / "x" / "package.json").write_text('{"name": "x"}')
    (tmp_path / "package.json").write_text(json.dumps({"name": "root", "private": True, "workspaces": workspaces}))
    dockerfile = tmp_path / "Dockerfile"
    [finding] = [f for f in check_source(dockerfile.read_bytes(), str(dockerfile), Settings()) if f.rule.code == "SF701"]
    assert finding.fix is None
    assert finding.message.endswith(f"not moved: {why}"), finding.message


def _sf701(tmp_path, dockerfile: str, files: dict[str, str]):
    from slimfile.engine import Settings, check_source, fix_source

    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    settings = Settings(build_context=str(tmp_path))
    findings = [f for f in check_source(dockerfile.encode(), "Dockerfile", settings) if f.rule.code == "SF701"]
    return findings, fix_source(dockerfile.encode(), "Dockerfile", settings).output.decode(), settings


def test_the_maven_wrapper_copy_is_a_manifest_copy_and_a_prepared_build_is_left_alone(tmp_path):
    """``COPY .mvn/ .mvn`` (docker init's Java template, Spring's guides) was taken for the
    stage's copy of the sources: both mvnw steps got a finding ("re-runs on every change to the
    sources copied by `COPY .mvn/ .mvn`"), and once that was skipped the build below `COPY src`
    got one too, though `dependency:go-offline` already runs above it."""
    pom = "<project><modelVersion>4.0.0</modelVersion><artifactId>a</artifactId></project>\n"
    files = {"pom.xml": pom, "mvnw": "", ".mvn/wrapper/maven-wrapper.properties": "", "src/A.java": ""}
    text = (
        "FROM eclipse-temurin:17-jdk\nWORKDIR /app\nCOPY .mvn/ .mvn\nCOPY mvnw pom.xml ./\n"
        "RUN ./mvnw dependency:go-offline\nCOPY src ./src\nRUN ./mvnw package\n"
    )
    findings, output, _ = _sf701(tmp_path, text, files)
    assert findings == [] and output == text


def test_what_sf701_wrote_is_not_a_copy_of_the_sources_for_the_next_check(tmp_path):
    """The fix copies .yarn/releases whole (`COPY .yarn/releases ./.yarn/releases/`); a second
    `check` took that for the stage's first broad copy and reported the install again."""
    from slimfile.engine import check_source

    files = {"package.json": '{"name": "a"}', ".yarnrc.yml": "yarnPath: .yarn/releases/y.cjs\n", ".yarn/releases/y.cjs": "", "index.js": ""}
    findings, output, settings = _sf701(tmp_path, "FROM node:18\nWORKDIR /app\nCOPY . .\nRUN yarn install\n", files)
    assert [f.fix is not None for f in findings] == [True]
    assert "COPY package.json .yarnrc.yml ./\nCOPY .yarn/releases ./.yarn/releases/\nRUN yarn install" in output
    assert [f.rule.code for f in check_source(output.encode(), "Dockerfile", settings) if f.rule.code == "SF701"] == []


def test_a_message_names_six_manifests_and_counts_the_rest(tmp_path):
    """A workspace of 40 members made a message naming 41 manifests; now it names six and says
    how many more (the fix still copies every one)."""
    from slimfile.engine import Settings, check_source, fix_source

    _workspace(tmp_path, [f"m{i:02}" for i in range(40)])
    dockerfile = tmp_path / "Dockerfile"
    settings = Settings(select=("SF701",))
    (finding,) = check_source(dockerfile.read_bytes(), str(dockerfile), settings)
    assert finding.message.count("package.json") == 6 and finding.message.endswith("and 35 more first and install before the sources")
    output = fix_source(dockerfile.read_bytes(), str(dockerfile), settings).output.decode()
    assert output.count("/package.json ./packages/") == 40


def test_each_run_is_read_once_per_plan_and_its_refusal_said_once(tmp_path, monkeypatch):
    """The plan walks the stage twice (the second walk moves the ENV lines the moved RUNs
    read) and read every RUN's installs again on the second: 2n reads of n installs (at
    8,000 lines of workspace-installs, 7,996 reads of 3,998 installs). A RUN's move and its
    refusals are read once and given again; the refused install is still named once."""
    import json

    from slimfile.engine import Settings, check_source, fix_source
    from slimfile.passes import cache_order

    (tmp_path / "package.json").write_text(json.dumps({"name": "app", "version": "1.0.0"}))
    (tmp_path / "package-lock.json").write_text(json.dumps({"name": "app", "lockfileVersion": 3, "packages": {}}))
    reads = []
    real = cache_order.dependency_install
    monkeypatch.setattr(cache_order, "dependency_install", lambda each, fact, *a, **k: reads.append(fact.tool) or real(each, fact, *a, **k))
    body = [
        "FROM node:20",
        "WORKDIR /app",
        "COPY . .",
        "ENV NPM_CONFIG_FUND=false",
        "RUN echo $NPM_CONFIG_FUND && npm ci",
        "RUN npm install left-pad",
        "RUN npm ci",
        "",
    ]
    source = "\n".join(body).encode()
    settings = Settings(build_context=str(tmp_path), select=("SF701",))
    findings = check_source(source, str(tmp_path / "Dockerfile"), settings)
    assert reads == ["npm", "npm", "npm"]
    messages = [f.message for f in findings if f.rule.code == "SF701"]
    assert len(messages) == 3 and sum("adds named packages" in m for m in messages) == 1, messages
    assert "would have to move past `RUN npm install left-pad`" in messages[2]
    output = fix_source(source, str(tmp_path / "Dockerfile"), settings).output.decode()
    assert output.index("ENV NPM_CONFIG_FUND=false") < output.index("RUN echo $NPM_CONFIG_FUND && npm ci") < output.index("COPY . .")


_STEPS = st.sampled_from(
    [
        "ENV V{k}=x",
        "ENV PIP_INDEX_URL=https://example.com/simple",
        "ARG A{k}",
        "RUN echo $V{k} && pip install p{k}",
        "RUN echo $A{k} > /etc/a{k} && pip install q{k}",
        "RUN pip install p{k}",
        "RUN cat /app/x > /usr/lib/f{k}",
        "RUN echo $V{k} > /usr/lib/python3/v{k}",
        "RUN pip install -r requirements.txt",
        "RUN python -m build",
        "LABEL l{k}=1",
    ]
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(_STEPS, st.integers(0, 3)), max_size=10), context=st.booleans())
def test_one_walk_decides_as_two_when_no_variable_moved(tmp_path, steps, context):
    """The plan walks the stage a second time only when the first moved an ENV or ARG line:
    the plan is the same as with the second walk always run."""
    from slimfile.analysis.context import Context
    from slimfile.engine import Settings
    from slimfile.passes import cache_order
    from slimfile.syntax.parser import parse

    (tmp_path / "requirements.txt").write_text("flask\n")
    lines = ["FROM python:3.12", "WORKDIR /app", "ENV V0=y", "COPY . .", *(text.format(k=k) for text, k in steps), ""]
    source = "\n".join(lines).encode()

    def plan_of(planner_plan):
        cache_order._Planner.plan = planner_plan
        settings_ = Settings(build_context=str(tmp_path)) if context else Settings()
        ctx = Context(parse(source), settings_)
        plan = cache_order.stage_plan(ctx, ctx.stages.stages[0])
        if plan is None:
            return None
        moves = [(m.step.instruction.start_line, m.split, m.prepare, len(m.installs)) for m in plan.moves]
        return moves, [(s.instruction.start_line, why) for s, why in plan.refused_installs], plan.unsafe_because

    def two_walks(self):
        moves, refused = self._pass(env_names=None)
        moves, refused = self._pass(env_names=cache_order._env_needed(moves))
        if not any(m.step.instruction.name == "RUN" for m in moves) and not refused:
            return None
        return cache_order.Plan(self.copy, self.copy_map, moves, refused, self.unsafe)

    one_walk = cache_order._Planner.plan
    try:
        assert plan_of(one_walk) == plan_of(two_walks), source.decode()
    finally:
        cache_order._Planner.plan = one_walk


def test_a_stage_whose_first_walk_moves_no_variable_is_walked_once(monkeypatch):
    """Every RUN of the stage meets every step that stays above it again on a second walk (a
    fifth of ``check`` of moves-past-writes, n/2 writes and n/2 pip installs after the copy)."""
    from slimfile.engine import Settings, check_source
    from slimfile.passes import cache_order

    walks = []
    real = cache_order._Planner._pass
    monkeypatch.setattr(cache_order._Planner, "_pass", lambda self, env_names: walks.append(env_names) or real(self, env_names))
    body = [f"RUN cat /app/x > /usr/lib/f{k}\nRUN pip install p{k}" for k in range(5)]
    source = "\n".join(["FROM python:3.12", "WORKDIR /app", "ENV A=1", "COPY . .", *body, ""]).encode()
    findings = check_source(source, "Dockerfile", Settings(select=("SF703",)))
    assert walks == [None] and [f.message[:7] for f in findings] == ["5 steps"]
    walks.clear()
    check_source(source.replace(b"COPY . .\n", b"COPY . .\nENV B=2\n"), "Dockerfile", Settings(select=("SF703",)))
    assert len(walks) == 2 and walks[0] is None and walks[1] is not None
