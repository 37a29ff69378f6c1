"""SF704's keep-or-leave-out decision, made through ``CopyVerdicts`` (issue 12: asking every
broad copy about every candidate entry made a long file in a large context cost minutes).

``CopyVerdicts.keep`` must answer exactly what asking each copy that brings the entry, in file
order, answers (the first reason to keep, else the last copy's note): on generated files of
many stages whose copies, references, rewrites and reads name some entries and not others."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from slimfile.analysis.context import Context
from slimfile.analysis.context_uses import file_uses
from slimfile.engine import Settings
from slimfile.passes import dockerignore
from slimfile.passes.dockerignore import CopiedFolders, CopyVerdicts, broad_copies
from slimfile.syntax import parse
from tests.cli.conftest import write

CONTEXT = {
    ".git/HEAD": "ref: refs/heads/main\n",
    "web/.git/HEAD": "ref: refs/heads/main\n",
    "src/.venv/pyvenv.cfg": "home = /usr/bin\n",
    "node_modules/left-pad/index.js": "x\n",
    "web/node_modules/a/index.js": "x\n",
    ".venv/pyvenv.cfg": "home = /usr/bin\n",
    "src/__pycache__/m.cpython-311.pyc": "b\n",
    "src/pkg/__pycache__/n.cpython-311.pyc": "b\n",
    "__pycache__/top.pyc": "b\n",
    "dist/app.js": "x\n",
    ".env": "API_KEY=x\n",
    "web/.env.production": "API_KEY=y\n",
    "requirements.txt": "bottle\n",
    "package.json": '{"name": "app", "dependencies": {"express": "4"}}\n',
    "app.py": "print('hi')\n",
    "npm-debug.log": "x\n",
}

# steps of a stage: copies of the context or of one folder, and what may name their files later
STEPS = [
    "COPY . .",
    "COPY . /app",
    "COPY . /srv/",
    "COPY web /app/web",
    "COPY src/ /opt/src",
    "RUN rm -rf /app/.git",
    "RUN cat /srv/.env",
    "RUN ls /app/src/__pycache__",
    "RUN ls /opt/src/*/n.cpython-311.pyc",
    "RUN npm ci",
    "RUN npm run build",
    "RUN pip install -r requirements.txt",
    "RUN python -m venv .venv",
    "RUN git describe --tags",
    "RUN cp $FROM_ENV/.env /etc/app.env",
    "RUN node -r dotenv/config app.js",
    "CMD [\"node\", \"dist/app.js\"]",
    "WORKDIR /app",
    "WORKDIR /srv",
]

stages = st.lists(st.lists(st.sampled_from(STEPS), min_size=1, max_size=5), min_size=1, max_size=6)


def _dockerfile(found: list[list[str]]) -> str:
    lines = []
    for i, steps in enumerate(found):
        lines += [f"FROM node:20 AS s{i}", "WORKDIR /app", *steps]
    return "\n".join(lines) + "\n"


def _one_by_one(ctx: Context, files, uses, folders: CopiedFolders, group: dict, entry) -> tuple[str | None, str]:
    """The question asked of every copy, as the pass asked it before the verdicts were shared."""
    note = ""
    for copy in folders.copies:
        if not copy.brings(entry.path):
            continue
        image_path = copy.copy.image_path(entry.path)
        if image_path is None:
            continue
        reason, note = dockerignore._keep_in_copy(ctx, files, uses, copy, group, entry, image_path)
        if reason is not None:
            return reason, ""
    return None, note


@pytest.fixture(scope="module")
def context_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("context")
    write(root, CONTEXT)
    return root


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stages)
# a folder's copy comes first and the build reads git after it: web/.git stays, .git need not
@example([["COPY web /app/web", "RUN git describe --tags"], ["COPY . ."]])
# the same image path named in one stage, not in the other; a copy the reader comes before
@example([["COPY . /srv/", "RUN cat /srv/.env"], ["COPY . /srv/"], ["COPY src/ /opt/src", "RUN ls /opt/src/*/n.cpython-311.pyc"]])
def test_shared_verdicts_answer_what_each_copy_answers(context_root: Path, found: list[list[str]]) -> None:
    source = _dockerfile(found)
    ctx = Context(parse(source.encode()), Settings(build_context=str(context_root)))
    copies = broad_copies(ctx)
    if not copies:
        return
    files, inventory, uses = ctx.build_files, ctx.context_inventory(), file_uses(ctx)
    folders = CopiedFolders(copies)
    verdicts = CopyVerdicts(ctx, files, uses, folders)
    secrets = dockerignore._secrets(ctx, inventory, folders, files)
    kinds = dockerignore._candidates(dockerignore._entries(inventory), secrets)
    asked = 0
    for group in dockerignore._data()["groups"]:
        for entry in dockerignore._group_entries(group, kinds, secrets):
            if folders.brings(entry.path):
                assert verdicts.keep(group, entry) == _one_by_one(ctx, files, uses, folders, group, entry), (group["title"], entry, source)
                asked += 1
    assert asked > 0  # the context always holds candidates a `COPY . .` brings


def test_an_entry_named_in_one_stage_is_kept_for_that_stage_only(context_root: Path) -> None:
    # the second stage's copy lands .git where a later step reads it; the first stage's does not
    source = "FROM node:20 AS a\nCOPY . /srv/\nFROM node:20 AS b\nCOPY . /app\nRUN rm -rf /app/.git\n"
    ctx = Context(parse(source.encode()), Settings(build_context=str(context_root)))
    folders = CopiedFolders(broad_copies(ctx))
    verdicts = CopyVerdicts(ctx, ctx.build_files, file_uses(ctx), folders)
    group = next(g for g in dockerignore._data()["groups"] if g["condition"] == "vcs")
    git = dockerignore.Entry(".git", True)
    assert verdicts.keep(group, git) == ("line 5 refers to it", "")
