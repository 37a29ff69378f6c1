"""Which image paths are the application's own, and which file the warm rebuild changes
(no Docker needed)."""

from pathlib import Path

import pytest

from slimfile.analysis.build_context import list_context, load_dockerignore
from slimfile.syntax import parse
from slimfile.verify.app_files import app_paths, copy_steps, expand, expand_sources
from slimfile.verify.cache import pick_probe
from slimfile.verify.stages import UnknownTarget, needed_stages, stage_chain


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def steps_of(dockerfile: bytes, target=None, base_workdir="/"):
    return copy_steps(stage_chain(parse(dockerfile), target), base_workdir)


def test_destinations_follow_workdir_env_and_json_form():
    steps = steps_of(
        b'FROM python\nENV HOME_DIR=/opt/app\nWORKDIR $HOME_DIR\nCOPY a.py b.py ./\nWORKDIR sub\nADD ["c d.txt", "."]\nCOPY --from=build /out/bin /usr/local/bin/tool\n'
    )
    assert [(s.keyword, s.sources, s.dest, s.dest_is_dir, s.from_stage) for s in steps] == [
        ("COPY", ("a.py", "b.py"), "opt/app", True, None),
        ("ADD", ("c d.txt",), "opt/app/sub", True, None),
        ("COPY", ("/out/bin",), "usr/local/bin/tool", False, "build"),
    ]


def test_a_relative_destination_starts_from_the_base_image_workdir():
    (step,) = steps_of(b"FROM golang\nCOPY main.go .\n", base_workdir="/go")
    assert step.dest == "go"


def test_expand_substitutes_variables_and_defaults():
    assert expand("${A}/x/$B/${C:-dflt}", {"A": "/a", "B": "b"}) == "/a/x/b/dflt"


@pytest.fixture
def context(tmp_path):
    return write_tree(
        tmp_path,
        {
            "Dockerfile": "FROM x\n",
            ".dockerignore": "tests/\n**/*.md\n",
            "app/main.py": "print(1)\n",
            "app/util/helpers.py": "x = 1\n",
            "app/README.md": "docs\n",
            "requirements.txt": "six\n",
            "tests/test_main.py": "def test(): pass\n",
            "static/site.css": "body {}\n",
        },
    )


def test_context_listing_honours_dockerignore(context):
    listing = list_context(context, load_dockerignore(context))
    assert listing.files == [".dockerignore", "Dockerfile", "requirements.txt", "app/main.py", "app/util/helpers.py", "static/site.css"]
    assert "tests" not in listing.dirs


def test_a_dockerfile_specific_ignore_file_wins(context):
    (context / "Dockerfile.dockerignore").write_text("static\n")
    ignore = load_dockerignore(context, context / "Dockerfile")
    assert ignore.excludes("static/site.css") and not ignore.excludes("tests/test_main.py")


def test_sources_expand_like_the_builder_copies_them(context):
    listing = list_context(context, load_dockerignore(context))
    (whole, directory, single, glob) = steps_of(
        b"FROM x\nWORKDIR /srv\nCOPY . .\nCOPY app /opt/app\nCOPY requirements.txt /tmp/req.txt\nCOPY static/*.css /www/\n"
    )
    assert ("app/util/helpers.py", "srv/app/util/helpers.py") in expand_sources(whole, listing)
    assert sorted(expand_sources(directory, listing)) == [
        ("app", "opt/app"),  # a directory source copies its contents into the destination
        ("app/main.py", "opt/app/main.py"),
        ("app/util", "opt/app/util"),
        ("app/util/helpers.py", "opt/app/util/helpers.py"),
    ]
    assert expand_sources(single, listing) == [("requirements.txt", "tmp/req.txt")]
    assert expand_sources(glob, listing) == [("static/site.css", "www/site.css")]


def test_app_paths_are_exact_for_the_context_and_trees_for_other_stages(context):
    listing = list_context(context, load_dockerignore(context))
    steps = steps_of(b"FROM x AS build\nFROM y\nCOPY app/ /app/\nCOPY --from=build /out /usr/local/lib/out\n")
    is_app = app_paths(steps, listing)
    assert is_app("/app/main.py") and is_app("app/util/helpers.py")
    assert not is_app("app/README.md")  # ignored: never copied
    assert not is_app("app/node_modules/x.js")  # made by a RUN, not copied
    assert is_app("usr/local/lib/out/anything/deep")
    assert not is_app("usr/local/lib/other")


def test_the_probe_is_a_source_file_of_the_last_copy_not_a_manifest(context):
    listing = list_context(context, load_dockerignore(context))
    steps = steps_of(b"FROM x\nWORKDIR /srv\nCOPY static/ /www/\nCOPY requirements.txt .\nCOPY app/ ./app/\n")
    probe = pick_probe(steps, listing, context)
    assert (probe.context_path, probe.image_path, probe.line) == ("app/main.py", "srv/app/main.py", 5)
    only_manifests = steps_of(b"FROM x\nCOPY static/ /www/\nCOPY requirements.txt .\n")
    assert pick_probe(only_manifests, listing, context).context_path == "static/site.css"
    assert pick_probe(steps_of(b"FROM x\nCOPY requirements.txt .\n"), listing, context) is None


def test_needed_stages_include_copy_from_and_mount_from_sources():
    dockerfile = parse(
        b"FROM a AS deps\nFROM b AS unused\nFROM c AS tools\nFROM d AS build\nRUN --mount=type=bind,from=tools,target=/t make\n"
        b"FROM build AS final\nCOPY --from=deps /x /x\n"
    )
    assert [s.label for s in needed_stages(dockerfile, None)] == ["deps", "tools", "build", "final"]
    assert [s.label for s in needed_stages(dockerfile, "tools")] == ["tools"]


def test_an_unknown_target_is_refused():
    with pytest.raises(UnknownTarget, match="no stage named 'nope'"):
        stage_chain(parse(b"FROM a AS one\n"), "nope")
