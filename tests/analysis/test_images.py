"""The image catalog and the tag grammar of official images (slimfile/analysis/images.py).

The tag lists below are real tags of the official repositories, one or more of every shape
each repository publishes (docker-library/official-images library/ files, 2026-08-21); the
whole set of 2,915 tags round-trips as well (docs/images.md says how that was checked).
"""

from __future__ import annotations

import pytest

from slimfile.analysis.images import (
    Tag,
    counterparts,
    format_tag,
    lookup,
    parse_tag,
    repositories,
    runtime_base,
)

SHAPES = {
    "python": [
        "3", "3.11", "3.11.4", "3.15.0rc1", "3.15-rc", "3.15-rc-slim-trixie", "3.14.7-trixie", "3-trixie", "trixie",
        "3.14.7-slim-trixie", "3-slim", "slim", "slim-bookworm", "3.12-alpine", "3.12-alpine3.24", "alpine3.24",
        "alpine", "latest", "3.13-windowsservercore-ltsc2025", "3.11.4-windowsservercore", "3.14-slim-bookworm",
    ],
    "node": [
        "18", "18.19", "18.19.1", "26-alpine3.23", "alpine3.23", "current-alpine3.23", "26-bookworm-slim", "bookworm-slim",
        "trixie-slim", "slim", "lts", "lts-bookworm", "lts-krypton", "krypton-slim", "lts-slim", "jod-alpine", "current",
        "26.7.0-trixie", "24-bullseye-slim", "hydrogen", "iron-alpine3.19",
    ],
    "ruby": ["4.0.6-trixie", "4.0-slim-trixie", "4-slim", "slim", "3.4.10-alpine3.24", "alpine", "3.3.12", "3.1-bookworm"],
    "rust": ["1-bullseye", "1.98-slim-bullseye", "slim-bullseye", "1.98.0-slim", "1-alpine3.21", "alpine", "1", "latest"],
    "golang": ["1.27.0-trixie", "1-trixie", "1.27-alpine3.24", "alpine", "tip-20260815-trixie", "tip", "1.27.0-nanoserver-ltsc2025", "1.21"],
    "debian": [
        "bookworm", "bookworm-20260803", "12.15", "12", "bookworm-backports", "bookworm-slim", "bookworm-20260803-slim",
        "12.15-slim", "12-slim", "stable-slim", "oldoldstable-20260803-slim", "sid", "experimental-20260803", "latest",
    ],
    "ubuntu": ["22.04", "jammy-20260810", "jammy", "26.04", "resolute-20260811.1", "rolling", "devel"],
    "buildpack-deps": ["bookworm-curl", "oldstable-scm", "bookworm", "curl", "scm", "22.04-curl", "noble", "latest"],
    "eclipse-temurin": [
        "8u502-b07-jdk-alpine-3.24", "8-jdk-alpine", "8-alpine", "8u502-b07-jdk-resolute", "8-jdk", "8", "11.0.32_9-jdk-alpine",
        "17.0.8.1_1-jre-jammy", "17-jre", "21-jdk-ubi9-minimal", "17-jdk-nanoserver-ltsc2022", "17-jdk-windowsservercore-1809",
    ],
    "openjdk": ["27-rc-jdk-oraclelinux10", "27-rc-oracle", "28-ea-11-jdk-slim-trixie", "27-rc-slim", "11-jre-slim-buster", "8u342-jre", "17-jdk-slim-bullseye", "11"],
    "amazoncorretto": ["8-al2", "8u504-al2-generic", "8-al2-native-jdk", "8-al2023-jre", "8-alpine3.21-full", "17", "11-headless", "17.0.20-al2023"],
    "php": ["8.5.9-cli-trixie", "cli", "8.5-apache", "apache-trixie", "8.6.0beta1-fpm-alpine3.24", "8.5.10RC1-zts", "8.6-rc-cli-alpine", "8", "latest"],
    "nginx": [
        "1.31.4", "mainline", "1.31.4-trixie", "1.31-perl", "mainline-trixie-otel", "1.31.4-alpine3.24-perl", "alpine-slim",
        "stable-alpine3.24-slim", "stable", "1.30-alpine", "alpine3.24-otel",
    ],
    "httpd": ["2.4.68", "2.4-trixie", "2-alpine3.24", "alpine", "latest"],
    "maven": [
        "3.9.16-eclipse-temurin-11-alpine", "3-eclipse-temurin-17", "3.9-eclipse-temurin-17-noble", "4.0.0-rc-5-eclipse-temurin-17",
        "3-ibmjava-8", "ibmjava", "3.9.16-ibm-semeru-17-noble", "3-amazoncorretto-11-al2023", "3-amazoncorretto-11-debian-trixie",
        "3-openjdk-17-slim", "eclipse-temurin",
    ],
    "gradle": ["9.7.1-jdk25", "jdk25", "9-jdk25-alpine", "9.7-jdk25-corretto-al2023", "jdk21-graal", "9.7.1-jdk21-ubi9", "ubi", "9-jdk-25-and-26-alpine", "8.5"],
    "alpine": ["3.19", "3", "edge", "20240606", "latest"],
}


@pytest.mark.parametrize("repository,tag", [(r, t) for r, tags in SHAPES.items() for t in tags])
def test_every_official_tag_shape_round_trips(repository, tag):
    parsed = parse_tag(repository, tag)
    assert parsed is not None, f"{repository}:{tag} was not read"
    assert format_tag(repository, parsed) == tag


def test_every_catalogued_repository_has_shapes():
    assert set(repositories()) == set(SHAPES)


@pytest.mark.parametrize(
    "text,slots",
    [
        ("python:3.11-slim-bookworm", {"version": "3.11", "variant": "slim", "suite": "bookworm"}),
        ("node:18-bookworm-slim", {"version": "18", "variant": "slim", "suite": "bookworm"}),
        ("openjdk:11-jre-slim-buster", {"version": "11", "variant": "jre", "size": "slim", "suite": "buster"}),
        ("maven:3.9-eclipse-temurin-17-alpine", {"version": "3.9", "jdk": "eclipse-temurin-17", "suite": "alpine"}),
        ("debian:bookworm-20240110-slim", {"suite": "bookworm", "date": "20240110", "variant": "slim"}),
        ("eclipse-temurin:8u392-b08-jre-jammy", {"version": "8u392-b08", "variant": "jre", "suite": "jammy"}),
    ],
)
def test_tags_split_into_version_variant_and_suite(text, slots):
    image = lookup(text)
    assert image is not None
    assert {k: v for k, v in vars(image.tag).items() if v} == slots


@pytest.mark.parametrize(
    "text,expected",
    [
        ("python:3.11.4", "python:3.11.4-slim"),
        ("python:3", "python:3-slim"),
        ("python", "python:slim"),
        ("python:latest", "python:slim"),
        ("python:3.11-bookworm", "python:3.11-slim-bookworm"),
        ("node:18-bookworm", "node:18-bookworm-slim"),
        ("node:lts", "node:lts-slim"),
        ("ruby:3.2", "ruby:3.2-slim"),
        ("rust:1.78.0-bullseye", "rust:1.78.0-slim-bullseye"),
        ("debian:bookworm", "debian:bookworm-slim"),
        ("debian:12", "debian:12-slim"),
        ("debian", "debian:stable-slim"),
        ("buildpack-deps:bookworm-scm", "debian:bookworm-slim"),
        ("buildpack-deps:22.04", "ubuntu:22.04"),
        ("eclipse-temurin:17", "eclipse-temurin:17-jre"),
        ("eclipse-temurin:17-jdk-jammy", "eclipse-temurin:17-jre-jammy"),
        ("openjdk:11-jdk-slim-buster", "openjdk:11-jre-slim-buster"),
        ("docker.io/library/python:3.11", "docker.io/library/python:3.11-slim"),
        ("library/node:20", "library/node:20-slim"),
    ],
)
def test_the_slim_counterpart_keeps_what_the_tag_pins(text, expected):
    found, reason = counterparts(lookup(text))
    assert reason is None
    assert found[0].text == expected


def test_openjdk_offers_the_smallest_of_its_slim_and_jre_forms_first():
    found, _ = counterparts(lookup("openjdk:11"))
    assert [c.text for c in found] == ["openjdk:11-jre-slim", "openjdk:11-jre", "openjdk:11-slim"]


@pytest.mark.parametrize(
    "text,reason",
    [
        ("python:3.11-slim", "already the slim variant"),
        ("python:3.12-alpine3.19", "which has no slim variant"),
        ("golang:1.21", "golang has no slim variant"),
        ("php:8.2-fpm", "php has no slim variant"),
        ("ubuntu:22.04", "ubuntu has no slim variant"),
        ("openjdk:17", "oraclelinux8"),
        ("eclipse-temurin:17-jre", "already the JRE"),
        ("eclipse-temurin:latest", "without a version"),
        ("debian:bookworm-backports", "no slim variant"),
        ("gcr.io/distroless/static-debian12", "already a distroless image"),
    ],
)
def test_no_counterpart_says_why(text, reason):
    found, why = counterparts(lookup(text))
    assert found == [] and reason in why


@pytest.mark.parametrize(
    "text,expected",
    [
        ("python:3.11-slim-bookworm", "python:3.11-alpine"),
        ("node:18-bookworm", "node:18-alpine"),
        ("golang:1.21", "golang:1.21-alpine"),
        ("php:8.2-fpm", "php:8.2-fpm-alpine"),
        ("nginx:1.25-perl", "nginx:1.25-alpine-perl"),
        ("eclipse-temurin:17-jre", "eclipse-temurin:17-jre-alpine"),
    ],
)
def test_alpine_counterparts(text, expected):
    found, _ = counterparts(lookup(text), "alpine")
    assert [c.text for c in found] == [expected]


def test_apache_php_has_no_alpine_variant():
    found, reason = counterparts(lookup("php:8.2-apache"), "alpine")
    assert found == [] and "no Alpine variant" in reason


@pytest.mark.parametrize(
    "text",
    [
        "myorg/python:3.11",  # not the official namespace
        "ghcr.io/library/python:3.11",  # another registry
        "public.ecr.aws/docker/library/python:3.11",
        "python:3.11-onbuild",  # a tag shape the grammar does not read
        "python:${PY}",  # variables: resolved by the FROM analysis, not here
        "scratch",
        "localhost:5000/python:3.11",
        "centos:7",  # not in the catalog
    ],
)
def test_unknown_images_are_left_alone(text):
    assert lookup(text) is None


def test_variant_facts_come_from_the_layers():
    full, slim = lookup("python:3.11"), lookup("python:3.11-slim")
    missing = full.packages - slim.packages
    assert {"gcc", "make", "git", "curl", "libpq-dev", "procps", "python3"} <= missing
    assert "image:python3" in slim.packages and "ca-certificates" in slim.packages
    assert "ca-certificates" not in lookup("node:18-slim").packages
    jdk, jre = lookup("eclipse-temurin:17"), lookup("eclipse-temurin:17-jre")
    assert "javac" in jdk.programs - jre.programs and "java" in jre.programs
    assert jdk.packages - {f"image:{p}" for p in jdk.programs} == jre.packages - {f"image:{p}" for p in jre.programs}


def test_sizes_and_defaults():
    full, slim = lookup("python:3.11"), lookup("python:3.11-slim")
    assert full.size > 5 * slim.size and full.zoo_size == 653_129_599 and slim.zoo_size == 149_270_239
    assert lookup("python:3.11").suite == "trixie" and lookup("python:3.11-bookworm").suite == "bookworm"
    assert lookup("debian:12").debian_suite == "bookworm" and lookup("debian:stable-slim").debian_suite == "trixie"
    assert lookup("node:18").users >= {"root", "node"}
    assert lookup("maven:3-eclipse-temurin-17").java_version == "17"
    assert lookup("gradle:8.5-jdk21").java_version == "21"
    assert lookup("eclipse-temurin:17.0.8_7-jdk").java_version == "17"


@pytest.mark.parametrize(
    "build,recipe,expected",
    [
        ("golang:1.21", "go-static", "gcr.io/distroless/static-debian12"),
        ("golang:1.21-bookworm", "go-dynamic", "debian:bookworm-slim"),
        ("rust:1-bullseye", "rust", "debian:bullseye-slim"),
        ("python:3.11", "python", "python:3.11-slim"),
        ("python:3.11-bookworm", "python", "python:3.11-slim-bookworm"),
        ("python:3.11-slim", "python", "python:3.11-slim"),
        ("node:18-bookworm", "node", "node:18-bookworm-slim"),
        ("maven:3.9-eclipse-temurin-17", "java", "eclipse-temurin:17-jre"),
        ("gradle:jdk21", "java", "eclipse-temurin:21-jre"),
        ("eclipse-temurin:17-jdk", "java", "eclipse-temurin:17-jre"),
    ],
)
def test_runtime_bases_for_a_multi_stage_split(build, recipe, expected):
    base = runtime_base(build, recipe)
    assert base is not None and base.text == expected


def test_runtime_base_facts():
    static = runtime_base("golang:1.21", "go-static")
    assert not static.shell and "nonroot" in static.users and static.package_manager == ""
    slim = runtime_base("python:3.11", "python")
    assert slim.shell and slim.package_manager == "apt" and slim.size < 200_000_000
    assert runtime_base("maven:3.9", "java") is None  # no Java version in the tag: the caller decides


def test_empty_tag_and_latest():
    assert parse_tag("python", None) == Tag()
    assert parse_tag("python", "latest") == Tag(latest=True)
    assert format_tag("python", Tag()) is None


@pytest.mark.parametrize("image", ["python", "python:latest", "python:3", "python:3.11.4", "python:3.11-bookworm", "python:3-trixie"])
def test_the_split_and_the_swap_name_the_same_slim_base(image):
    """SF901's Python release base and SF801's slim swap read the same catalog: a split's
    release stage already stands on what SF801 would pick, so it is never swapped again."""
    from slimfile.analysis.recipes.python import _slim_image
    from slimfile.syntax.parser import parse
    from slimfile.syntax.stages import build_stage_model

    stage = build_stage_model(parse(f"FROM {image}\n".encode())).stages[0]
    found, _reason = counterparts(lookup(image))
    assert _slim_image(stage) == next(c.text for c in found if c.kind == "slim")
