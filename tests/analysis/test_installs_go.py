"""Go builds and `go mod download` as SF701 reads them (analysis/installs_go.py); the fixtures
under fixtures/passes/SF701-copy-manifests-first/go-* show the edits."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.analysis.test_installs_python import sf701

GO = {"go.mod": "module example.com/x\n\ngo 1.21\n", "main.go": "package main\n"}


@pytest.mark.parametrize(
    "dockerfile, files, expected",
    [
        ("FROM golang\nWORKDIR /src\nCOPY . .\nRUN go get ./... && go build .\n", GO, "`go get` changes go.mod"),
        ("FROM golang\nWORKDIR /src\nCOPY . .\nRUN go mod vendor && go build .\n", GO, "`go mod vendor` reads every source file"),
        ("FROM golang\nWORKDIR /src\nCOPY . .\nRUN go build -mod=vendor .\n", GO, "`-mod=vendor`"),
        ("FROM golang\nENV GOFLAGS=-mod=vendor\nWORKDIR /src\nCOPY . .\nRUN go build .\n", GO, "`-mod=vendor`"),
        # GOFLAGS, GOWORK and GOENV as the go command reads them: `go mod download` above the copy
        # failed on the zoo's engine where the original built ("go: open go.prod.mod: no such file
        # or directory"; a go.work outside the module: GOWORK names a file the copy has not brought)
        ("FROM golang\nENV GOFLAGS=-modfile=go.prod.mod\nWORKDIR /src\nCOPY . .\nRUN go build .\n", GO, "`-modfile=go.prod.mod` (GOFLAGS) points the build at another go.mod"),
        ("FROM golang\nENV GOFLAGS=\"-trimpath -mod=vendor\"\nWORKDIR /src\nCOPY . .\nRUN go build .\n", GO, "`-mod=vendor` (GOFLAGS)"),
        ("FROM golang\nARG F\nENV GOFLAGS=$F\nWORKDIR /src\nCOPY . .\nRUN go build .\n", GO, "GOFLAGS is set to a value not known here"),
        ("FROM golang\nENV GOWORK=/src/ws/go.work\nWORKDIR /src\nCOPY . .\nRUN go build .\n", GO, "GOWORK names a file the install reads (/src/ws/go.work)"),
        ("FROM golang\nENV GOENV=/src/go.env\nWORKDIR /src\nCOPY . .\nRUN go build .\n", GO, "GOENV names a file"),
        ("FROM golang\nWORKDIR /src\nCOPY . .\nRUN GOFLAGS=-modfile=go.x.mod go build .\n", GO, "`-modfile=go.x.mod` (GOFLAGS)"),
        ("FROM golang\nWORKDIR /src\nCOPY . .\nRUN export GOWORK=/src/ws/go.work && go build .\n", GO, "GOWORK names a file the install reads (/src/ws/go.work)"),
        ("FROM golang\nWORKDIR /src\nCOPY . .\nRUN go build -C cmd .\n", GO, "`-C` points the build"),
        ("FROM golang\nARG P\nENV GOPATH=$P\nWORKDIR /src\nCOPY . .\nRUN go build .\n", GO, "GOPATH is `$P`"),
        ("FROM golang\nWORKDIR /src\nCOPY . .\nRUN go build .\n", {"main.go": ""}, "no go.mod"),
    ],
)
def test_refusals_say_why(tmp_path: Path, dockerfile: str, files: dict[str, str], expected: str):
    findings, output = sf701(tmp_path, dockerfile, files)
    ((fixed, message),) = findings
    assert not fixed and expected in message, message
    assert output == dockerfile


@pytest.mark.parametrize("env", ["GOWORK=off", "GOENV=off", "GOFLAGS=-mod=mod", 'GOFLAGS="-trimpath -buildvcs=false"'])
def test_go_variables_that_name_no_file_still_move(tmp_path: Path, env: str):
    text = f"FROM golang\nENV {env}\nWORKDIR /src\nCOPY . .\nRUN go build .\n"
    findings, output = sf701(tmp_path, text, GO)
    assert [fixed for fixed, _ in findings] == [True]
    assert f"ENV {env}\nWORKDIR /src\nCOPY go.mod ./\nRUN go mod download\nCOPY . .\n" in output


def test_gowork_off_ignores_the_go_work_of_the_context(tmp_path: Path):
    # built on the zoo's engine (golang:1.19): the rewrite builds; without GOWORK=off it is refused
    files = {**GO, "go.work": "go 1.19\n\nuse .\n"}
    findings, output = sf701(tmp_path, "FROM golang\nENV GOWORK=off\nWORKDIR /src\nCOPY . .\nRUN go build .\n", files)
    assert [fixed for fixed, _ in findings] == [True]
    assert "COPY go.mod ./\nRUN go mod download\nCOPY . .\n" in output
    findings, _ = sf701(tmp_path, "FROM golang\nWORKDIR /src\nCOPY . .\nRUN go build .\n", files)
    assert "a go.work makes this a workspace" in findings[0][1]


def test_a_tool_install_is_not_a_project_build(tmp_path: Path):
    findings, _ = sf701(tmp_path, "FROM golang\nWORKDIR /src\nCOPY . .\nRUN go install github.com/a/b@v1.0.0\n", GO)
    assert findings == []


def test_a_build_in_a_subfolder_uses_the_module_above_and_the_cache_follows_gopath(tmp_path: Path):
    text = "FROM golang\nENV GOPATH=/opt/go\nWORKDIR /src\nCOPY . .\nRUN go build ./cmd/x\n"
    _, output = sf701(tmp_path, text, {**GO, "go.sum": ""})
    assert output == (
        "FROM golang\nENV GOPATH=/opt/go\nWORKDIR /src\nCOPY go.mod go.sum ./\nRUN go mod download\nCOPY . .\nRUN go build ./cmd/x\n"
    )
    # a step that reads the module cache is not passed
    text = "FROM golang\nENV GOPATH=/opt/go\nWORKDIR /src\nCOPY . .\nRUN ls /opt/go/pkg\nRUN go build ./cmd/x\n"
    findings, _ = sf701(tmp_path, text, {**GO, "go.sum": ""})
    assert not findings[0][0] and "ls /opt/go/pkg" in findings[0][1]


def test_without_the_context_only_go_mod_is_copied(tmp_path: Path):
    findings, output = sf701(tmp_path, "FROM golang\nWORKDIR /src\nCOPY . .\nRUN go build .\n", {}, context=False)
    assert "unsafe" in findings[0][1]
    assert output == "FROM golang\nWORKDIR /src\nCOPY go.mod ./\nRUN go mod download\nCOPY . .\nRUN go build .\n"
