"""bundler, composer, maven and cargo as SF701 reads them (analysis/installs_ruby_php.py,
analysis/installs_jvm_rust.py); the fixtures under fixtures/passes/SF701-copy-manifests-first/
show the edits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.analysis.test_installs_python import sf701

GEMS = {"Gemfile": 'source "https://rubygems.org"\ngem "rack"\n', "Gemfile.lock": "GEM\n"}
COMPOSER = {"composer.json": json.dumps({"require": {"monolog/monolog": "^3"}}), "composer.lock": "{}"}
POM = "<project><modelVersion>4.0.0</modelVersion><artifactId>a</artifactId></project>\n"


@pytest.mark.parametrize(
    "dockerfile, files, expected",
    [
        ("FROM ruby\nWORKDIR /app\nCOPY . .\nRUN bundle install\n", {**GEMS, "Gemfile": GEMS["Gemfile"] + 'eval_gemfile "Gemfile.local"\n'}, "runs `eval_gemfile`"),
        ("FROM ruby\nENV BUNDLE_GEMFILE=/app/gems/Gemfile\nWORKDIR /app\nCOPY . .\nRUN bundle install\n", GEMS, "BUNDLE_GEMFILE names a file the install reads"),
        ("FROM ruby\nARG G\nENV BUNDLE_GEMFILE=$G\nWORKDIR /app\nCOPY . .\nRUN bundle install\n", GEMS, "BUNDLE_GEMFILE names a file the install reads ($G)"),
        ("FROM ruby\nENV BUNDLE_APP_CONFIG=/app/ci\nWORKDIR /app\nCOPY . .\nRUN bundle install\n", GEMS, "BUNDLE_APP_CONFIG names a file"),
        ("FROM ruby\nWORKDIR /app\nCOPY . .\nRUN bundle install --deployment\n", {**GEMS, "vendor/bundle/x": ""}, "the build context sends `vendor/bundle`"),
        ("FROM ruby\nWORKDIR /app\nCOPY . .\nRUN bundle install --without test\n", {**GEMS, ".bundle/config": "---\n"}, "writes .bundle/config"),
        ("FROM ruby\nWORKDIR /app\nCOPY . .\nRUN bundle install\n", {**GEMS, "Gemfile": GEMS["Gemfile"] + 'ruby file: ".tool-versions"\n'}, "reads .tool-versions"),
        ("FROM php\nWORKDIR /app\nCOPY . .\nRUN composer install -d api\n", COMPOSER, "another composer.json"),
        ("FROM php\nENV COMPOSER=composer-prod.json\nWORKDIR /app\nCOPY . .\nRUN composer install\n", COMPOSER, "COMPOSER names a file the install reads (composer-prod.json)"),
        ("FROM php\nARG C\nENV COMPOSER=$C\nWORKDIR /app\nCOPY . .\nRUN composer install\n", COMPOSER, "COMPOSER names a file the install reads ($C)"),
        ("FROM php\nWORKDIR /app\nCOPY . .\nRUN COMPOSER=composer-prod.json composer install\n", COMPOSER, "COMPOSER names a file the install reads (composer-prod.json)"),
        ("FROM php\nWORKDIR /app\nCOPY . .\nRUN composer install\n", {**COMPOSER, "composer.json": json.dumps({"config": {"vendor-dir": "../lib"}})}, "outside the project"),
        ("FROM php\nWORKDIR /app\nCOPY . .\nRUN composer install\n", {**COMPOSER, "composer.json": json.dumps({"extra": {"installer-paths": {}}})}, "installer-paths"),
        ("FROM php\nWORKDIR /app\nCOPY . .\nRUN composer install\n", {**COMPOSER, "vendor/autoload.php": ""}, "the build context sends `vendor`"),
        # an AttributeError, an internal error for the Dockerfile (composer refuses the file too)
        ("FROM php\nWORKDIR /app\nCOPY . .\nRUN composer install\n", {**COMPOSER, "composer.json": "[]"}, "composer.json is not a JSON object"),
        # what these hold is not known (composer refuses them): the move was offered
        ("FROM php\nWORKDIR /app\nCOPY . .\nRUN composer install\n", {**COMPOSER, "composer.json": '{"repositories": 5}'}, "`repositories` is neither a list nor an object"),
        ("FROM php\nWORKDIR /app\nCOPY . .\nRUN composer install\n", {**COMPOSER, "composer.json": '{"config": {"vendor-dir": 5}}'}, "`config.vendor-dir` is not a string"),
        ("FROM maven\nWORKDIR /src\nCOPY . .\nRUN mvn -o package\n", {"pom.xml": POM}, "`-o` builds offline"),
        ("FROM maven\nWORKDIR /src\nCOPY . .\nRUN mvn -pl api package\n", {"pom.xml": POM}, "`-pl` builds some modules"),
        (
            "FROM maven\nWORKDIR /src\nCOPY . .\nRUN mvn package\n",
            {"pom.xml": POM.replace("<modelVersion>", "<parent><relativePath>../parent/pom.xml</relativePath></parent><modelVersion>")},
            "parent is read from a folder",
        ),
        ("FROM maven\nWORKDIR /src\nCOPY . .\nRUN mvn -s ci/settings.xml package\n", {"pom.xml": POM}, "ci/settings.xml does not come from the copy"),
        ("FROM rust\nWORKDIR /src\nCOPY . .\nRUN cargo fetch && cargo build --release\n", {"Cargo.toml": "[package]\n"}, "cargo-chef"),
    ],
)
def test_refusals_say_why(tmp_path: Path, dockerfile: str, files: dict[str, str], expected: str):
    findings, output = sf701(tmp_path, dockerfile, files)
    ((fixed, message),) = findings
    assert not fixed and expected in message, message
    assert output == dockerfile


def test_settings_files_of_the_project_are_copied_with_the_pom(tmp_path: Path):
    text = "FROM maven\nWORKDIR /src\nCOPY . .\nRUN mvn -B -s ci/settings.xml package\n"
    _, output = sf701(tmp_path, text, {"pom.xml": POM, "ci/settings.xml": "<settings/>\n"})
    assert output == (
        "FROM maven\nWORKDIR /src\nCOPY pom.xml ./\nCOPY ci/settings.xml ./ci/\n"
        "RUN mvn -B -s ci/settings.xml dependency:go-offline\nCOPY . .\nRUN mvn -B -s ci/settings.xml package\n"
    )


@pytest.mark.parametrize(
    "run",
    ["cargo install ripgrep", "cargo chef cook --release --recipe-path recipe.json", "bundle exec rake assets:precompile"],
)
def test_tools_and_recipes_are_not_project_installs(tmp_path: Path, run: str):
    findings, _ = sf701(tmp_path, f"FROM rust\nWORKDIR /src\nCOPY . .\nRUN {run}\n", {"Cargo.toml": "[package]\n", **GEMS})
    assert findings == []


@pytest.mark.parametrize(
    "dockerfile, files, expected",
    [
        # .mvn/maven.config and MAVEN_ARGS are read as the command line: `-s ci/settings.xml` there
        # was not copied above the copy (Maven stops when a settings file is missing)
        ("FROM maven\nWORKDIR /src\nENV MAVEN_ARGS=\"-f other/pom.xml\"\nCOPY . .\nRUN mvn package\n", {"pom.xml": POM}, "`-f` (MAVEN_ARGS) reads another POM"),
        ("FROM maven\nARG A\nENV MAVEN_ARGS=$A\nWORKDIR /src\nCOPY . .\nRUN mvn package\n", {"pom.xml": POM}, "MAVEN_ARGS is set to a value not known here ($A)"),
        ("FROM maven\nWORKDIR /src\nCOPY . .\nRUN mvn package\n", {"pom.xml": POM, ".mvn/maven.config": "-o\n"}, "`-o` (.mvn/maven.config) builds offline: nothing is downloaded"),
        ("FROM maven\nWORKDIR /src\nCOPY . .\nRUN mvn -gs ci/settings.xml package\n", {"pom.xml": POM}, "ci/settings.xml does not come from the copy"),
        ("FROM maven\nWORKDIR /src\nCOPY . .\nRUN mvn package\n", {"pom.xml": POM, ".mvn/maven.config": "--file=other/pom.xml\n"}, "`--file` (.mvn/maven.config) reads another POM"),
        # Bundler reads a `git:` repository or a `source` from a folder, Composer a vcs repository,
        # a package's dist or its cafile
        ("FROM ruby\nWORKDIR /app\nCOPY . .\nRUN bundle install\n", {"Gemfile": 'source "https://rubygems.org"\ngem "rack", git: "file:///app/vendor/rack"\n'}, "installs a gem from the folder file:///app/vendor/rack"),
        ("FROM ruby\nWORKDIR /app\nCOPY . .\nRUN bundle install\n", {"Gemfile": 'source "./gems"\ngem "x"\n'}, "installs a gem from the folder ./gems"),
        ("FROM php\nWORKDIR /app\nCOPY . .\nRUN composer install\n", {**COMPOSER, "composer.json": json.dumps({"repositories": [{"type": "vcs", "url": "/app/repos/x"}]})}, "a `vcs` repository read from a folder (/app/repos/x)"),
        ("FROM php\nWORKDIR /app\nCOPY . .\nRUN composer install\n", {**COMPOSER, "composer.json": json.dumps({"repositories": [{"type": "package", "package": {"name": "a/b", "version": "1", "dist": {"url": "./dist/b.zip", "type": "zip"}}}]})}, "a `package` repository read from a folder (./dist/b.zip)"),
        ("FROM php\nWORKDIR /app\nCOPY . .\nRUN composer install\n", {**COMPOSER, "composer.json": json.dumps({"config": {"cafile": "certs/ca.pem"}})}, "`config.cafile` reads certs/ca.pem"),
    ],
)
def test_files_named_beyond_the_manifest_refuse_the_move(tmp_path: Path, dockerfile: str, files: dict[str, str], expected: str):
    findings, output = sf701(tmp_path, dockerfile, files)
    ((fixed, message),) = findings
    assert not fixed and message.endswith(expected), message
    assert output == dockerfile


def test_settings_named_in_maven_config_and_remote_repositories_still_move(tmp_path: Path):
    files = {"pom.xml": POM, ".mvn/maven.config": "-B\n-s ci/settings.xml\n", "ci/settings.xml": "<settings/>"}
    _, output = sf701(tmp_path, "FROM maven\nWORKDIR /src\nCOPY . .\nRUN mvn package\n", files)
    assert "COPY pom.xml ./\nCOPY ci/settings.xml ./ci/\nCOPY .mvn ./.mvn/\nRUN mvn dependency:go-offline\n" in output, output
    files[".mvn/maven.config"] = "--settings=ci/settings.xml\n"
    _, output = sf701(tmp_path, "FROM maven\nWORKDIR /src\nCOPY . .\nRUN mvn package\n", files)
    assert "COPY ci/settings.xml ./ci/\n" in output, output
    remote = {"repositories": [{"type": "vcs", "url": "git@github.com:a/b.git"}, {"type": "composer", "url": "https://repo.example.com"}], "config": {"cafile": "/etc/ssl/ca.pem"}}
    findings, _ = sf701(tmp_path, "FROM php\nWORKDIR /app\nCOPY . .\nRUN composer install\n", {**COMPOSER, "composer.json": json.dumps(remote)})
    assert [fixed for fixed, _ in findings] == [True], findings
