"""The .dockerignore pass (SF704 proposal, SF705 secrets, SF706 excluded COPY sources), on
build contexts written for each test. The before/after cases are under
fixtures/passes/SF70[456]-*; these tests pin the messages, the edge cases and the engine's
handling of files a fix creates."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from slimfile.analysis import build_context
from slimfile.diagnostics import Finding
from slimfile.engine import Settings, check_source, fix_source
from slimfile.passes import dockerignore
from slimfile.syntax.edits import Edit, Fix, NewFile, Safety
from tests.cli.conftest import write

PYTHON_APP = {
    "Dockerfile": 'FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir -r requirements.txt\nCMD ["python", "app.py"]\n',
    "app.py": "print('hi')\n",
    "requirements.txt": "bottle\n",
    ".git/HEAD": "ref: refs/heads/main\n",
    ".venv/pyvenv.cfg": "home = /usr/bin\n",
    ".venv/lib/site.py": "x\n",
    "pkg/__pycache__/m.cpython-311.pyc": "b\n",
    ".env": "API_KEY=do-not-print-me\n",
}
UNSAFE = Settings(unsafe_fixes=True)


def findings(root: Path, code: str | None = None, settings: Settings = UNSAFE, name: str = "Dockerfile") -> list[Finding]:
    path = root / name
    found = check_source(path.read_bytes(), str(path), settings)
    return [f for f in found if code is None or f.rule.code == code]


def one(root: Path, code: str, **kwargs) -> Finding:
    (found,) = findings(root, code, **kwargs)
    return found


# -- SF704 --------------------------------------------------------------------------------------


def test_the_finding_names_everything_it_would_leave_out(tmp_path: Path):
    write(tmp_path, PYTHON_APP)
    finding = one(tmp_path, "SF704")
    assert finding.line == 3
    assert "the image also gets .git/, .venv/, pkg/__pycache__/, .env and Dockerfile" in finding.message
    fix = finding.fix
    assert fix is not None and fix.safety is Safety.UNSAFE and fix.edits == ()
    assert fix.declares == frozenset({"build-context"})
    (new,) = fix.creates
    assert new.path == str(tmp_path / ".dockerignore")
    lines = [line for line in new.content.decode().splitlines() if line and not line.startswith("#")]
    assert lines == [".git", ".venv", "**/__pycache__", ".env", "Dockerfile", ".dockerignore"]
    assert "SF704 dockerignore-missing" in new.content.decode().splitlines()[0]


def test_no_finding_when_an_ignore_file_exists_or_nothing_is_copied_broadly(tmp_path: Path):
    write(tmp_path, {**PYTHON_APP, ".dockerignore": "*.md\n"})
    assert findings(tmp_path, "SF704") == []
    (tmp_path / ".dockerignore").unlink()
    write(tmp_path, {"Dockerfile.dockerignore": ".git\n"})  # BuildKit's Dockerfile-specific file
    assert findings(tmp_path, "SF704") == []
    write(tmp_path, {"only.Dockerfile": "FROM python:3.11-slim\nCOPY app.py requirements.txt /app/\n"})
    assert findings(tmp_path, "SF704", name="only.Dockerfile") == []


def test_no_finding_without_a_build_context_or_anything_to_leave_out(tmp_path: Path):
    source = PYTHON_APP["Dockerfile"].encode()
    assert [f for f in check_source(source, "-", UNSAFE) if f.rule.code.startswith("SF70") and f.rule.code > "SF703"] == []
    write(tmp_path, {"Dockerfile": "FROM scratch\nCOPY . /\n", "hello": "x\n"})
    assert findings(tmp_path, "SF704") == []  # only the Dockerfile: listing it alone is not worth a finding


def test_standard_input_gets_the_finding_without_a_fix(tmp_path: Path):
    write(tmp_path, PYTHON_APP)
    settings = dataclasses.replace(UNSAFE, create_files=False)
    finding = one(tmp_path, "SF704", settings=settings)
    assert finding.fix is None and "no fix: the Dockerfile comes from standard input" in finding.message


def test_no_fix_when_the_file_to_create_exists_as_something_else(tmp_path: Path):
    write(tmp_path, PYTHON_APP)
    (tmp_path / ".dockerignore").mkdir()
    finding = one(tmp_path, "SF704")
    assert finding.fix is None and "exists" in finding.message


def test_several_dockerfiles_in_the_folder_get_their_own_ignore_file(tmp_path: Path):
    write(tmp_path, {**PYTHON_APP, "Dockerfile.dev": "FROM python:3.11\nCOPY . .\n"})
    (new,) = one(tmp_path, "SF704").fix.creates
    assert new.path == str(tmp_path / "Dockerfile") + ".dockerignore"
    text = new.content.decode()
    assert "Dockerfile.dev" in text.splitlines() and "BuildKit reads <Dockerfile>.dockerignore" in text


def test_the_new_file_uses_the_dockerfile_newlines(tmp_path: Path):
    write(tmp_path, {**PYTHON_APP, "Dockerfile": PYTHON_APP["Dockerfile"].replace("\n", "\r\n")})
    (new,) = one(tmp_path, "SF704").fix.creates
    assert new.content.count(b"\r\n") == new.content.count(b"\n")


def test_relative_dockerfile_paths_give_relative_new_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    write(tmp_path / "svc", PYTHON_APP)
    monkeypatch.chdir(tmp_path)
    source = (tmp_path / "svc" / "Dockerfile").read_bytes()
    (finding,) = [f for f in check_source(source, "svc/Dockerfile", UNSAFE) if f.rule.code == "SF704"]
    assert finding.fix.creates[0].path == "svc/.dockerignore"
    assert "the fix creates svc/.dockerignore" in finding.message
    context = [f for f in check_source(source, "svc/Dockerfile", dataclasses.replace(UNSAFE, build_context="svc")) if f.rule.code == "SF704"]
    assert context[0].fix.creates[0].path == "svc/.dockerignore"


def test_nothing_a_copy_names_is_left_out(tmp_path: Path):
    write(
        tmp_path,
        {
            **PYTHON_APP,
            "Dockerfile": "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nCOPY .env /app/settings.env\n"
            "COPY pkg/__pycache__/m.cpython-311.pyc /opt/\nCOPY .ven[v]/pyvenv.cfg /opt/\n",
        },
    )
    text = one(tmp_path, "SF704").fix.creates[0].content.decode()
    assert ".env" not in text.splitlines() and "**/__pycache__" not in text.splitlines()
    assert "#   .env: the COPY on line 4 names it" in text
    assert "#   pkg/__pycache__/: the COPY on line 5 names it" in text
    assert "#   .venv/: the COPY on line 6 names it" in text


def test_a_pattern_line_that_would_reach_a_named_file_elsewhere_is_dropped(tmp_path: Path):
    write(
        tmp_path,
        {
            ".git/HEAD": "ref\n",
            "web/app.py": "1\n",
            "web/.env": "A=1\n",
            "web/__pycache__/app.pyc": "b\n",
            "tools/__pycache__/t.pyc": "b\n",
            "Dockerfile": "FROM python:3.11-slim\nCOPY web/ /app/\nCOPY tools/__pycache__/t.pyc /opt/\n",
        },
    )
    text = one(tmp_path, "SF704").fix.creates[0].content.decode()
    assert "**/__pycache__" not in text.splitlines()
    assert "#   web/__pycache__/: `**/__pycache__` would also leave out a file a COPY names" in text


def test_a_folder_used_before_the_install_writes_it_again_stays(tmp_path: Path):
    base = {"package.json": '{"name": "a", "version": "1.0.0"}\n', "node_modules/x/index.js": "1\n", ".DS_Store": "f"}
    write(tmp_path, {**base, "Dockerfile": "FROM node:18\nWORKDIR /app\nCOPY . .\nRUN cp -r node_modules /tmp/saved\nRUN npm ci\n"})
    text = one(tmp_path, "SF704").fix.creates[0].content.decode()
    assert "node_modules" not in text.splitlines() and "#   node_modules/: line 4 refers to it" in text
    # referred to after the install wrote it again: the host's copy is not needed
    write(tmp_path, {"Dockerfile": "FROM node:18\nWORKDIR /app\nCOPY . .\nRUN npm ci\nENV PATH=/app/node_modules/.bin:$PATH\n"})
    assert "node_modules" in one(tmp_path, "SF704").fix.creates[0].content.decode().splitlines()


def test_an_install_before_the_copy_makes_the_hosts_folder_redundant(tmp_path: Path):
    write(
        tmp_path,
        {
            "package.json": '{"name": "a", "version": "1.0.0"}\n',
            "node_modules/x/index.js": "1\n",
            "Dockerfile": "FROM node:18\nWORKDIR /app\nCOPY package.json ./\nRUN npm install\nCOPY . .\n"
            "RUN ls node_modules\nCMD [\"node\", \"index.js\"]\n",
        },
    )
    assert "node_modules" in one(tmp_path, "SF704").fix.creates[0].content.decode().splitlines()


def test_a_nested_node_modules_is_left_out_only_where_an_install_writes_it(tmp_path: Path):
    write(
        tmp_path,
        {
            "package.json": '{"name": "a", "version": "1.0.0"}\n',
            "node_modules/x/index.js": "1\n",
            "tools/node_modules/y/index.js": "1\n",
            "Dockerfile": "FROM node:18\nWORKDIR /app\nCOPY . .\nRUN npm ci\n",
        },
    )
    text = one(tmp_path, "SF704").fix.creates[0].content.decode()
    assert "node_modules" in text.splitlines() and "tools/node_modules" not in text.splitlines()
    assert "#   tools/node_modules/: no install in its stage writes it again" in text


@pytest.mark.parametrize(
    "extra, reason",
    [
        ({"pyproject.toml": '[build-system]\nrequires = ["setuptools", "setuptools-scm"]\n'}, "pyproject.toml uses `setuptools-scm`"),
        ({"Dockerfile": "FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN git describe > VERSION\n"}, "`git` on line 4 reads version control"),
        ({"Dockerfile": "FROM golang:1.19\nWORKDIR /src\nCOPY . .\nRUN go build -o /x .\n"}, "`go build` on line 4 reads version control"),
        ({"app.gemspec": "spec.files = `git ls-files -z`.split(\"\\x0\")\n"}, "app.gemspec uses `git ls-files`"),
    ],
)
def test_version_control_stays_when_the_build_reads_it(tmp_path: Path, extra: dict, reason: str):
    write(tmp_path, {**PYTHON_APP, **extra})
    text = one(tmp_path, "SF704").fix.creates[0].content.decode()
    assert ".git" not in text.splitlines() and f"#   .git/: {reason}" in text


def test_go_build_without_vcs_stamping_does_not_need_git(tmp_path: Path):
    write(tmp_path, {**PYTHON_APP, "Dockerfile": "FROM golang:1.19\nWORKDIR /src\nCOPY . .\nRUN go build -buildvcs=false -o /x .\n"})
    assert ".git" in one(tmp_path, "SF704").fix.creates[0].content.decode().splitlines()


def test_env_files_stay_when_a_dependency_loads_them(tmp_path: Path):
    write(tmp_path, {**PYTHON_APP, "requirements.txt": "python-dotenv==1.0.1\nbottle\n"})
    text = one(tmp_path, "SF704").fix.creates[0].content.decode()
    assert ".env" not in text.splitlines()
    assert "#   .env: requirements.txt depends on `python-dotenv`, which reads .env files" in text


def test_env_templates_are_not_candidates(tmp_path: Path):
    write(tmp_path, {**PYTHON_APP, ".env.example": "API_KEY=\n", ".env.production": "API_KEY=x\n"})
    lines = one(tmp_path, "SF704").fix.creates[0].content.decode().splitlines()
    assert ".env.production" in lines and ".env.example" not in lines


def test_a_virtualenv_stays_when_the_stage_installs_no_python_dependencies(tmp_path: Path):
    write(tmp_path, {**PYTHON_APP, "Dockerfile": "FROM python:3.11\nWORKDIR /app\nCOPY . .\nCMD [\"python\", \"app.py\"]\n"})
    text = one(tmp_path, "SF704").fix.creates[0].content.decode()
    assert ".venv" not in text.splitlines() and "#   .venv/: its stage installs no Python dependencies" in text


def test_odd_names_are_escaped_or_left_alone(tmp_path: Path):
    assert dockerignore._escape("#notes") == "\\#notes"
    assert dockerignore._escape("!keep") == "\\!keep"
    assert dockerignore._escape("a[1]*.pem") == "a\\[1\\]\\*.pem"
    assert dockerignore._escape(" padded") is None
    from slimfile.analysis.globs import DockerIgnore

    ignore = DockerIgnore.from_text("\n".join(dockerignore._escape(p) for p in ("#notes", "!keep", "a[1]*.pem")))
    assert ignore.excludes("#notes") and ignore.excludes("!keep") and ignore.excludes("a[1]*.pem")
    assert not ignore.excludes("a1x.pem")


def test_the_walk_is_bounded_and_never_enters_known_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    write(tmp_path, {**PYTHON_APP, **{f"node_modules/p{i}/index.js": "1" for i in range(50)}, "target/CACHEDIR.TAG": "x"})
    inventory = build_context.walk_inventory(tmp_path, frozenset({"node_modules", ".git"}))
    assert "node_modules" in inventory.unentered and not any(p.startswith("node_modules/") for p in inventory.files)
    assert inventory.markers == {".venv": "pyvenv.cfg", "target": "CACHEDIR.TAG"}
    small = build_context.walk_inventory(tmp_path, frozenset(), limit=5)
    assert not small.complete


# -- SF705 --------------------------------------------------------------------------------------


SECRETS = {
    "deploy/key.pem": "-----BEGIN EC PRIVATE KEY-----\nzzz-not-printed\n-----END EC PRIVATE KEY-----\n",
    "deploy/cert.pem": "-----BEGIN CERTIFICATE-----\npublic\n-----END CERTIFICATE-----\n",
    "id_rsa": "whatever\n",
    "id_rsa.pub": "ssh-rsa AAAA\n",
    "store.p12": "binary\n",
    ".aws/credentials": "[default]\naws_secret_access_key = zzz-not-printed\n",
    ".npmrc": "//registry.npmjs.org/:_authToken=zzz-not-printed\n",
    "sa-credentials.json": '{"type": "service_account", "private_key": "zzz-not-printed"}\n',
    ".env": "TOKEN=zzz-not-printed\n",
    ".env.empty": "# nothing set\nEMPTY=\n",
}


def test_secrets_are_named_with_their_kind_never_their_content(tmp_path: Path):
    write(tmp_path, {"Dockerfile": "FROM debian:bookworm-slim\nCOPY . /srv\n", ".dockerignore": "*.md\n", **SECRETS})
    finding = one(tmp_path, "SF705")
    expected = (
        ".aws/credentials (cloud credentials), .env (environment values), .npmrc (a registry token), "
        "deploy/key.pem (a private key), id_rsa (a private key), sa-credentials.json (a service-account key), "
        "store.p12 (a key store (PKCS #12))"
    )
    assert expected in finding.message
    assert "zzz" not in finding.message and "cert.pem" not in finding.message and "id_rsa.pub" not in finding.message
    assert "add them to .dockerignore" in finding.message and finding.fix is None


def test_secrets_an_ignore_file_excludes_are_not_reported(tmp_path: Path):
    write(tmp_path, {"Dockerfile": "FROM debian:bookworm-slim\nCOPY . /srv\n", ".dockerignore": "deploy\n*.p12\n", **SECRETS})
    message = one(tmp_path, "SF705").message
    assert "deploy/key.pem" not in message and "store.p12" not in message and "id_rsa (a private key)" in message


def test_without_an_ignore_file_the_secret_finding_points_at_the_proposal(tmp_path: Path):
    write(tmp_path, {"Dockerfile": "FROM node:18\nWORKDIR /app\nCOPY . .\nRUN npm ci\n", "package.json": "{}\n", **SECRETS})
    message = one(tmp_path, "SF705").message
    assert "SF704's proposal leaves out" in message and "the build uses the rest" in message
    lines = one(tmp_path, "SF704").fix.creates[0].content.decode().splitlines()
    assert ".npmrc" not in lines and "#   .npmrc: `npm ci` on line 4 reads it" in lines
    assert {"deploy/key.pem", "id_rsa", "store.p12", ".aws/credentials", "sa-credentials.json"} <= set(lines)


def test_an_npm_token_from_the_environment_is_not_a_secret(tmp_path: Path):
    write(tmp_path, {"Dockerfile": "FROM node:18\nCOPY . /app\n", ".dockerignore": "x\n", ".npmrc": "//r/:_authToken=${NPM_TOKEN}\n"})
    assert findings(tmp_path, "SF705") == []


def test_large_files_are_not_read(tmp_path: Path):
    big = "-----BEGIN RSA PRIVATE KEY-----\n" + "x" * 70000
    write(tmp_path, {"Dockerfile": "FROM scratch\nCOPY . /\n", ".dockerignore": "x\n", "huge.pem": big, "small.key": big[:100]})
    message = one(tmp_path, "SF705").message
    assert "small.key" in message and "huge.pem" not in message


def test_a_secret_in_a_builder_stage_says_so(tmp_path: Path):
    write(tmp_path, {"Dockerfile": "FROM debian:bookworm AS build\nCOPY . /src\nFROM scratch\nCOPY --from=build /src/app /app\n", ".dockerignore": "x\n", "id_rsa": "k\n"})
    assert "of stage `build` (not the final image, but its layers and cache)" in one(tmp_path, "SF705").message


def test_a_context_too_large_to_walk_is_reported_not_crashed_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(build_context, "MAX_ENTRIES", 3)
    write(tmp_path, {"Dockerfile": "FROM scratch\nCOPY . /\n", ".dockerignore": "x\n", **{f"f{i}": "1" for i in range(10)}})
    message = one(tmp_path, "SF705").message
    assert message == "could not check the whole build context for secrets: it has more than 3 entries"


# -- SF706 --------------------------------------------------------------------------------------


def test_a_named_file_the_ignore_file_excludes(tmp_path: Path):
    write(tmp_path, {"Dockerfile": "FROM nginx:1\nCOPY README.md /srv/\n", "README.md": "r\n", ".dockerignore": "# docs\n*.md\n"})
    finding = one(tmp_path, "SF706")
    assert finding.line == 2 and finding.fix is None
    assert finding.message == (
        "`COPY README.md /srv/` copies `README.md`, which .dockerignore excludes (line 2: `*.md`): "
        'the build fails with "not found"; add `!README.md` after that line, or stop copying it'
    )


def test_re_included_and_missing_files_are_not_reported(tmp_path: Path):
    write(tmp_path, {"Dockerfile": "FROM nginx:1\nCOPY README.md NOTES.md missing.md /srv/\n", "README.md": "r\n", "NOTES.md": "n\n"})
    write(tmp_path, {".dockerignore": "*.md\n!README.md\n!NOTES.md\n"})
    assert findings(tmp_path, "SF706") == []


def test_an_excluded_folder_and_the_dockerfiles_own_ignore_file(tmp_path: Path):
    write(
        tmp_path,
        {
            "api.Dockerfile": "FROM nginx:1\nARG CONF=conf\nCOPY ${CONF}/site.conf /etc/nginx/conf.d/\nCOPY $UNKNOWN/x /x\n",
            "conf/site.conf": "server {}\n",
            "api.Dockerfile.dockerignore": "conf/\n",
        },
    )
    finding = one(tmp_path, "SF706", name="api.Dockerfile")
    assert "copies `${CONF}/site.conf`, which api.Dockerfile.dockerignore excludes (line 1: `conf/`)" in finding.message


def test_a_pattern_whose_every_match_is_excluded(tmp_path: Path):
    write(tmp_path, {"Dockerfile": "FROM nginx:1\nCOPY *.html /srv/\n", "a.html": "1", "b.html": "2", ".dockerignore": "a.html\n"})
    assert findings(tmp_path, "SF706") == []  # b.html is still sent
    write(tmp_path, {".dockerignore": "*.html\n"})
    message = one(tmp_path, "SF706").message
    assert "BuildKit copies nothing" in message and "add `!*.html` after that line" in message


# -- the engine and files a fix creates ------------------------------------------------------------


def test_fix_creates_the_file_once_and_later_rounds_see_it(tmp_path: Path):
    write(
        tmp_path,
        {
            "package.json": '{"name": "a", "version": "1.0.0"}\n',
            "node_modules/x/index.js": "1\n",
            "Dockerfile": "FROM node:18\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD [\"node\", \"index.js\"]\n",
        },
    )
    path = tmp_path / "Dockerfile"
    settings = dataclasses.replace(UNSAFE, select=frozenset({"SF701", "SF704"}))
    result = fix_source(path.read_bytes(), str(path), settings)
    assert [new.path for new in result.created] == [str(tmp_path / ".dockerignore")]
    # the second round read the proposed file: node_modules is no longer sent, so SF701 moved the install
    assert b"COPY package.json ./\nRUN npm ci\nCOPY . .\n" in result.output
    assert {f.rule.code for f in result.applied} == {"SF701", "SF704"}
    assert not any(f.rule.code == "SF704" for f in result.remaining)
    assert result.changed
    # what fix reports equals what a fresh run sees once the file is written
    (tmp_path / ".dockerignore").write_bytes(result.created[0].content)
    again = fix_source(result.output, str(path), settings)
    assert again.output == result.output and again.created == [] and not again.changed


def test_safe_fixes_alone_create_nothing(tmp_path: Path):
    write(tmp_path, PYTHON_APP)
    path = tmp_path / "Dockerfile"
    result = fix_source(path.read_bytes(), str(path), Settings())
    assert result.created == [] and any(f.rule.code == "SF704" for f in result.remaining)


def test_the_engine_never_creates_over_an_existing_file(tmp_path: Path):
    existing = tmp_path / "exists.txt"
    existing.write_text("mine\n")
    rule = dockerignore.DOCKERIGNORE_MISSING

    def creating(ctx):
        new = NewFile(str(existing), b"theirs\n")
        yield Finding(rule, "m", 0, 4, Fix((), Safety.SAFE, "create", frozenset({"build-context"}), creates=(new,)))

    result = fix_source(b"FROM scratch\n", str(tmp_path / "Dockerfile"), Settings(), passes=(creating,))
    assert result.created == [] and [r.reason for r in result.rejected] == [f"{existing} already exists; a fix never overwrites a file"]
    stdin = dataclasses.replace(Settings(), create_files=False)
    existing.unlink()
    result = fix_source(b"FROM scratch\n", "-", stdin, passes=(creating,))
    assert result.created == [] and "standard input" in result.rejected[0].reason


def test_a_fix_that_creates_files_must_say_so():
    new = NewFile("x/.dockerignore", b".git\n")
    with pytest.raises(ValueError, match="build-context"):
        Fix((), Safety.UNSAFE, "t", creates=(new,))
    with pytest.raises(ValueError, match="at least one edit or new file"):
        Fix(())
    with pytest.raises(ValueError, match="twice"):
        Fix((), declares=frozenset({"build-context"}), creates=(new, new))
    a = Fix((), declares=frozenset({"build-context"}), creates=(new,))
    b = Fix((Edit(0, 1, b"x"),), declares=frozenset({"build-context"}), creates=(new,))
    assert a.conflicts_with(b) and not a.conflicts_with(Fix((Edit(0, 1, b"x"),)))


def test_an_entry_no_ignore_line_can_name_stays_and_says_why(tmp_path: Path):
    write(tmp_path, {**PYTHON_APP, " spaced/.env": "A=1\n"})
    text = one(tmp_path, "SF704").fix.creates[0].content.decode()
    assert "#    spaced/.env: a .dockerignore line cannot name it (leading or trailing spaces)" in text


def test_a_line_break_in_a_name_never_reaches_the_proposed_file_as_a_line(tmp_path: Path):
    """A folder named ``venv<newline>*<newline>x`` was kept (no line can name it) and listed in
    a comment as it is: the line between its line breaks became a pattern of the proposed
    file (``*``: the whole context left out, the build broken). Names are shown with control characters
    escaped, in the file and in the finding."""
    write(tmp_path, {**PYTHON_APP, "venv\n*\nx/pyvenv.cfg": "home = /usr\n", ".git/HEAD": "ref\n"})
    finding = one(tmp_path, "SF704")
    text = finding.fix.creates[0].content.decode()
    assert "#   venv\\n*\\nx/: a .dockerignore line cannot name it (a line break in its name)" in text
    patterns = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert "*" not in patterns and ".git" in patterns
    assert "\n" not in finding.message
