"""What counts as an undeclared difference, exit codes and the JSON report (no Docker needed)."""

import json

from slimfile.verify.build import BuildResult, Step
from slimfile.verify.config_diff import config_differences
from slimfile.verify.fs_diff import FileChange, FileEntry, FsDiff
from slimfile.verify.report import ImageFacts, VerifyReport, human_size, signed_size
from slimfile.verify.verdict import Problem, allowed_differences, config_problems, file_problems

ENTRY = FileEntry("x", "file", 0o644, 0, 0, 1, "ab")


def diff_with(*categories):
    return FsDiff([FileChange(f"{c}/file{i}", "removed", c, (), ENTRY, None) for i, c in enumerate(categories)])


def test_declarations_grant_kinds_of_difference():
    assert allowed_differences([]) == frozenset()
    assert allowed_differences(["base-image"]) == {"system-files", "base-image"}
    assert allowed_differences(["packages", "config:Env"]) == {"system-files", "config:Env"}
    assert allowed_differences(["stages"]) == frozenset()  # a structural change is no licence


def test_a_base_image_change_may_change_only_the_config_the_dockerfile_does_not_set():
    changes = config_differences(
        {"Env": ["GOPATH=/go", "PORT=80"], "User": "", "Cmd": ["/app"]},
        {"Env": ["SSL_CERT_FILE=/x", "PORT=80"], "User": "65532", "Cmd": ["/app"]},
    )
    allowed = allowed_differences(["base-image"])
    assert config_problems(changes, allowed, frozenset({"Env:PORT", "Cmd"})) == []
    assert [p.message.split(":")[0] for p in config_problems(changes, allowed, frozenset({"Env:GOPATH", "User"}))] == [
        "config Env",
        "config User",
    ]


def test_config_changes_need_config_or_the_field_declared():
    changes = config_differences({"Cmd": ["a"], "Env": ["A=1"]}, {"Cmd": ["b"], "Env": ["A=2"]})
    assert [p.message.split(":")[0] for p in config_problems(changes, frozenset())] == ["config Cmd", "config Env"]
    assert [p.kind for p in config_problems(changes, frozenset({"config:Env"}))] == ["config"]
    assert config_problems(changes, frozenset({"config"})) == []


def test_file_changes_name_the_paths_and_what_would_allow_them():
    problems = file_problems(diff_with("app", "system", "system"), frozenset())
    assert [p.kind for p in problems] == ["app-files", "system-files"]
    assert "/app/file0 removed" in problems[0].message and "`app-files`" in problems[0].message
    assert "(2)" in problems[1].message
    assert file_problems(diff_with("system"), allowed_differences(["base-image"])) == []
    assert [p.kind for p in file_problems(diff_with("app"), allowed_differences(["base-image"]))] == ["app-files"]


def test_long_lists_are_cut_in_the_message():
    problem, = file_problems(diff_with(*["system"] * 20), frozenset())
    assert "and 12 more" in problem.message


def facts(size, layers=3, ok=True):
    build = BuildResult("slimfile-verify:x", ok, 1.5, "sha256:1" if ok else None, [Step(None, 2, 3, "RUN x", True)])
    return ImageFacts(tag="slimfile-verify:x", build=build, size=size, layers=layers, config={"Cmd": ["x"]})


def report(**changes):
    base = VerifyReport("Dockerfile", "/ctx", None, False, before=facts(1000), after=facts(800, 2))
    for key, value in changes.items():
        setattr(base, key, value)
    return base


def test_exit_codes_and_verdicts():
    assert (report().exit_code, report().verdict) == (0, "verified")
    differs = report(problems=[Problem("config", "Cmd differs")])
    assert (differs.exit_code, differs.verdict) == (1, "undeclared-differences")
    broken = report(problems=[Problem("build", "does not build")])
    assert (broken.exit_code, broken.verdict) == (1, "rewrite-does-not-build")
    cannot = report(error="cannot reach the Docker engine")
    assert (cannot.exit_code, cannot.verdict) == (2, "error")
    assert report(interrupted=True, error="interrupted").exit_code == 130


def test_json_report_has_sizes_ratio_and_is_serialisable():
    data = json.loads(json.dumps(report().to_dict()))
    assert data["schema"] == "slimfile-verify/1"
    assert (data["before"]["size"], data["after"]["size"]) == (1000, 800)
    assert data["comparison"]["size_delta"] == -200 and data["comparison"]["size_ratio"] == 0.8
    assert data["comparison"]["layer_delta"] == -1
    assert data["before"]["build"] == {"ok": True, "seconds": 1.5, "image_id": "sha256:1", "steps": 1, "cached_steps": 1, "tries": 1}
    assert data["retried_builds"] == []


def test_sizes_print_in_decimal_units_like_docker():
    assert [human_size(n) for n in (0, 999, 1000, 150_156_805, 2_500_000_000)] == ["0 B", "999 B", "1.0 kB", "150.2 MB", "2.5 GB"]
    assert [signed_size(n) for n in (-19_856_468, 0, 42)] == ["-19.9 MB", "±0", "+42 B"]


def test_drops_and_rebuilds_allow_exactly_the_split_s_app_file_changes():
    from slimfile.verify.fs_diff import diff_manifests, read_manifest
    from slimfile.verify.ignore_rules import default_rules
    from tests.verify.tarfiles import Item, tar_stream

    before = read_manifest(
        tar_stream(
            Item("src/", kind="dir"), Item("src/cmd/", kind="dir"), Item("src/cmd/main.go", b"package main"),
            Item("src/go.mod", b"module x"), Item("src/templates/", kind="dir"), Item("src/templates/a.html", b"<a>"),
            Item("app", b"\x7fELF 1"),
        )
    )
    after = read_manifest(tar_stream(Item("src/", kind="dir"), Item("src/templates/", kind="dir"), Item("src/templates/a.html", b"<a>"), Item("app", b"\x7fELF 2")))
    diff = diff_manifests(before, after, default_rules(), lambda p: p.startswith(("src", "app")))
    declared = ["base-image", "drops:/src/**/*.go", "drops:/src/**/go.mod", "rebuilds:/app"]
    assert file_problems(diff, allowed_differences(declared), declared) == []
    (problem,) = file_problems(diff, allowed_differences(declared[:-1]), declared[:-1])
    assert "/app changed (content)" in problem.message and "main.go" not in problem.message
    lost_template = diff_manifests(before, read_manifest(tar_stream(Item("app", b"\x7fELF 2"))), default_rules(), lambda p: p.startswith(("src", "app")))
    (problem,) = file_problems(lost_template, allowed_differences(declared), declared)
    assert "/src/templates/a.html removed" in problem.message
