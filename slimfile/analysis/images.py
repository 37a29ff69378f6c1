"""The image catalog (``data/images.toml``) and the tag grammar of official images.

A tag of an official image is a version followed by words in the order its repository writes
them: ``python:3.11-slim-bookworm`` is version ``3.11``, variant ``slim``, suite ``bookworm``,
while ``node:18-bookworm-slim`` puts the suite first. :func:`parse_tag` reads a tag into those
slots and :func:`format_tag` writes them back in the repository's order, so a counterpart
keeps everything the user pinned (``python:3.11.4`` -> ``python:3.11.4-slim``, ``python`` ->
``python:slim``). A tag the grammar does not read is not an image slimfile knows: it is left
alone.

:func:`lookup` turns an image reference into a :class:`CatalogImage` (what the variant
contains: Debian packages, the image's own programs, sizes, user, distribution), and
:func:`counterparts` lists the smaller variants of the same image (slim, JRE, or Alpine on
request). :func:`runtime_base` answers the multi-stage split's question: the smallest base
that runs what a build image built.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from functools import lru_cache
from typing import Any

from slimfile.shell.data import load
from slimfile.syntax.stages import ImageRef, parse_image_ref

DOCKER_HUB = frozenset({None, "docker.io", "index.docker.io", "registry-1.docker.io"})
SLOTS = ("variant", "suite", "date", "flavour", "size", "jdk")
_BOUNDARY = r"(?=-|$)"


@dataclass(frozen=True)
class Tag:
    """A tag split into the slots official images use; ``None`` is an empty slot."""

    version: str | None = None
    variant: str | None = None  # slim, jdk/jre, cli/fpm/apache, curl/scm, perl/otel
    suite: str | None = None  # bookworm, jammy, alpine3.19, windowsservercore-ltsc2022, al2023
    date: str | None = None  # 20240110
    flavour: str | None = None  # backports, graal, corretto
    size: str | None = None  # openjdk and maven write "slim" after the JDK kind
    jdk: str | None = None  # maven's eclipse-temurin-17, gradle's jdk17
    latest: bool = False  # written as `latest`

    def with_slots(self, **slots: str | None) -> Tag:
        return replace(self, latest=False, **slots)


@dataclass(frozen=True)
class _Grammar:
    version: re.Pattern[str]
    slots: tuple[tuple[str, re.Pattern[str]], ...]


# -- the catalog --------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def catalog() -> dict[str, Any]:
    return load("images")


def repositories() -> dict[str, dict[str, Any]]:
    return catalog()["repositories"]


def _alternatives(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


def _suite_pattern(distributions: list[str]) -> str:
    words = catalog()["words"]
    parts = []
    for distribution in distributions:
        value = words[distribution]
        parts.append(_alternatives(value) if isinstance(value, list) else value)
    return "|".join(parts)


@lru_cache(maxsize=None)
def _grammar(repository: str) -> _Grammar:
    spec = repositories()[repository]
    words = catalog()["words"]
    patterns = {
        "variant": _alternatives(
            [k for k, v in spec.get("variants", {}).items() if k and "slot" not in v] + spec.get("variant_words", [])
        ),
        "suite": _suite_pattern(spec["distributions"]),
        "date": words["date"],
        "flavour": _alternatives(spec.get("flavours", [])),
        "size": _alternatives(spec.get("sizes", [])),
        "jdk": spec.get("jdk", ""),
    }
    slots = tuple(
        (slot, re.compile(f"(?:{patterns[slot]}){_BOUNDARY}")) for slot in spec["order"] if patterns[slot]
    )
    return _Grammar(re.compile(f"(?:{spec['version']}){_BOUNDARY}"), slots)


def parse_tag(repository: str, text: str | None) -> Tag | None:
    """The slots of ``text`` in ``repository``'s grammar; None when the grammar does not read it
    (an unknown variant, words out of order). No tag is the empty Tag."""
    if text is None or text == "":
        return Tag()
    if text == "latest":
        return Tag(latest=True)
    grammar = _grammar(repository)
    values: dict[str, str] = {}
    pos = 0
    match = grammar.version.match(text)
    if match and match.end() > 0:
        values["version"] = match.group(0)
        pos = match.end()
    for slot, pattern in grammar.slots:
        if pos >= len(text):
            break
        start = pos + 1 if pos else 0
        if pos and text[pos] != "-":
            return None
        match = pattern.match(text, start)
        if match:
            values[slot] = match.group(0)
            pos = match.end()
    if pos != len(text):
        return None
    alone = repositories()[repository].get("version_alone")
    if alone and len(values) > 1 and re.fullmatch(alone, values.get("version", "")):
        return None  # node:lts-iron has no -slim, -alpine... forms
    return Tag(**values)


def format_tag(repository: str, tag: Tag) -> str | None:
    """The tag text of ``tag`` in ``repository``'s order; None for no tag at all."""
    parts = [tag.version] if tag.version else []
    for slot in repositories()[repository]["order"]:
        value = getattr(tag, slot)
        if value:
            parts.append(value)
    if not parts:
        return "latest" if tag.latest else None
    return "-".join(parts)


# -- what an image is -----------------------------------------------------------------------------


def official_name(ref: ImageRef) -> str | None:
    """``python`` for ``python``, ``library/python``, ``docker.io/library/python``; None for
    images outside Docker Hub's official namespace."""
    if ref.registry not in DOCKER_HUB or ref.has_variables:
        return None
    name = ref.short_repository
    return name if name in repositories() else None


@dataclass(frozen=True)
class CatalogImage:
    """An image reference the catalog knows, with what its variant contains."""

    ref: ImageRef
    repository: str  # "python", or "distroless" for gcr.io/distroless/<flavour>-debian<N>
    tag: Tag
    flavour: str | None = None  # distroless: static, base, cc, java17...

    @property
    def spec(self) -> dict[str, Any]:
        if self.repository == "distroless":
            return catalog()["distroless"]
        return repositories()[self.repository]

    @property
    def text(self) -> str:
        return self.ref.text

    @property
    def suite(self) -> str | None:
        """The suite the image is built on: the tag's, else the repository's default."""
        if self.repository == "distroless":
            return catalog()["distroless"]["debian"].get(_distroless_debian(self.ref.repository) or "")
        if self.tag.suite:
            return self.tag.suite
        spec = self.spec
        if spec.get("versions_are_suites") and self.tag.version:
            return suite_of_release(self.tag.version)
        suite = spec.get("default_suite")
        for since, other in spec.get("default_suite_from", {}).items():
            if _major(self.tag.version) is not None and _major(self.tag.version) >= int(since):
                suite = other
        return suite

    @property
    def debian_suite(self) -> str | None:
        """The Debian/Ubuntu suite, aliases resolved (``stable`` -> trixie)."""
        suite = self.suite
        known = catalog()["suites"]
        while suite in known and "alias_of" in known[suite]:
            suite = known[suite]["alias_of"]
        return suite if suite in known else None

    @property
    def distribution(self) -> str:
        """debian, ubuntu, alpine, windows, other, or none (scratch, distroless)."""
        if self.repository == "distroless":
            return "none"
        return distribution_of(self.suite)

    @property
    def variant(self) -> str:
        """The key of the variant's facts in the catalog ("" is the full image)."""
        variants = self.spec.get("variants", {})
        key = self.tag.variant or ""
        if self.distribution == "alpine" and "alpine" in variants and key in ("", "slim"):
            key = "alpine"
        if self.tag.size:  # openjdk: 11-slim, 11-jre-slim
            key = next((k for k in (f"{key}-{self.tag.size}", self.tag.size) if k in variants), key)
        seen = set()
        while key in variants and "same_as" in variants[key] and key not in seen:
            seen.add(key)
            key = variants[key]["same_as"]
        return key

    @property
    def facts(self) -> dict[str, Any]:
        if self.repository == "distroless":
            return catalog()["distroless"]["flavours"].get(_distroless_kind(self.flavour), {})
        return self.spec.get("variants", {}).get(self.variant, {})

    @property
    def packages(self) -> frozenset[str]:
        """Debian (or Alpine) packages the variant has beyond its distribution's base image,
        and the image's own programs as ``image:<program>``."""
        return _packages(self.repository, self.variant, self.flavour, self.distribution)

    @property
    def programs(self) -> frozenset[str]:
        return frozenset(p[len("image:") :] for p in self.packages if p.startswith("image:"))

    @property
    def has_shell(self) -> bool:
        """Whether shell-form instructions work (``/bin/sh``): not on distroless (its debug
        tags have busybox at /busybox/sh, which shell form does not use)."""
        return self.repository != "distroless"

    @property
    def size(self) -> int | None:
        return self.facts.get("size")

    @property
    def carries(self) -> str:
        """What this variant has beyond its slim counterpart, in words (for messages)."""
        return self.facts.get("carries", "compilers, headers and tools")

    @property
    def compressed(self) -> int | None:
        return self.facts.get("compressed")

    @property
    def zoo_size(self) -> int | None:
        return self.facts.get("zoo")

    @property
    def users(self) -> frozenset[str]:
        spec = self.spec
        return frozenset(spec.get("users", ())) | {"root"}

    @property
    def java_version(self) -> str | None:
        """The Java major version a JDK or build image runs (``maven:3-eclipse-temurin-17`` ->
        17, ``gradle:jdk21`` -> 21, ``eclipse-temurin:17.0.8_7-jdk`` -> 17)."""
        if self.tag.jdk:
            match = re.search(r"(\d+)$", self.tag.jdk)
            return match.group(1) if match else None
        if self.repository in ("eclipse-temurin", "openjdk", "amazoncorretto") and self.tag.version:
            major = _major(self.tag.version)
            return str(major) if major is not None else None
        return None

    def with_tag(self, tag: Tag) -> str | None:
        """The reference text with another tag (registry and namespace as written)."""
        text = format_tag(self.repository, tag)
        return self.ref.name if text is None else f"{self.ref.name}:{text}"


def suite_of_release(version: str) -> str | None:
    """The Debian or Ubuntu suite of a release number (``12.5`` -> bookworm, ``22.04`` -> jammy)."""
    for name, facts in catalog()["suites"].items():
        release = facts.get("version")
        if release and (version == release or version.startswith(release + ".") and "." not in release):
            return name
    return None


def distribution_of(suite: str | None) -> str:
    if suite is None:
        return "other"
    known = catalog()["suites"]
    if suite in known:
        return known[suite]["distribution"]
    words = catalog()["words"]
    for distribution in ("alpine", "windows", "other"):
        if re.fullmatch(words[distribution], suite):
            return distribution
    return "other"


def _major(version: str | None) -> int | None:
    match = re.match(r"(\d+)", version or "")
    return int(match.group(1)) if match else None


@lru_cache(maxsize=None)
def _packages(repository: str, variant: str, flavour: str | None, distribution: str) -> frozenset[str]:
    if repository == "distroless":
        return frozenset(catalog()["distroless"]["provides"])
    spec = repositories()[repository]
    facts = spec.get("variants", {}).get(variant, {})
    layers = catalog()["layers"]
    base = {"debian": "debian-base", "ubuntu": "debian-base", "alpine": "alpine-base"}.get(distribution)
    out: set[str] = set(layers[base]["packages"]) if base else set()
    for layer in facts.get("layers", ()):
        out |= set(layers[layer]["packages"])
    out |= set(facts.get("packages", ()))
    if "buildpack-deps" in facts.get("layers", ()):
        out |= set(load("base_image_tools")["relations"]["buildpack-deps"]["depends"])
    out |= {f"image:{p}" for p in spec.get("programs", ())}
    out |= {f"image:{p}" for p in facts.get("programs", ())}
    return frozenset(out)


# -- distroless -------------------------------------------------------------------------------------

_DISTROLESS = re.compile(r"distroless/(?P<flavour>[a-z0-9-]+?)(?:-debian(?P<debian>\d+))?$")


def _distroless_debian(repository: str) -> str | None:
    match = _DISTROLESS.match(repository)
    return match.group("debian") if match else None


def _distroless_kind(flavour: str | None) -> str:
    """``java17`` -> ``java``, ``nodejs20`` -> ``nodejs``."""
    if flavour is None:
        return ""
    flavours = catalog()["distroless"]["flavours"]
    if flavour in flavours:
        return flavour
    base = re.sub(r"\d+$", "", flavour)
    return base if base in flavours else ""


def _distroless(ref: ImageRef) -> CatalogImage | None:
    if ref.registry != catalog()["distroless"]["registry"]:
        return None
    match = _DISTROLESS.match(ref.repository)
    if not match or not _distroless_kind(match.group("flavour")):
        return None
    tag = ref.tag or "latest"
    base = re.sub(r"-(amd64|arm64|arm|s390x|ppc64le|riscv64)$", "", tag)
    if base not in catalog()["distroless"]["tags"]:
        return None
    return CatalogImage(ref, "distroless", Tag(variant=base), match.group("flavour"))


# -- look-ups ----------------------------------------------------------------------------------------


def lookup(ref: ImageRef | str) -> CatalogImage | None:
    """The catalog's entry for an image reference, or None: not an official image, a tag the
    grammar does not read, variables, ``scratch``."""
    if isinstance(ref, str):
        ref = parse_image_ref(ref)
    if ref.has_variables or ref.is_scratch:
        return None
    distroless = _distroless(ref)
    if distroless is not None:
        return distroless
    name = official_name(ref)
    if name is None:
        return None
    tag = parse_tag(name, ref.tag)
    if tag is None:
        return None
    image = CatalogImage(ref, name, tag)
    if image.variant not in image.spec.get("variants", {}):
        return None  # a variant word the catalog has no facts for
    return image


@dataclass(frozen=True)
class Counterpart:
    """A smaller variant of an image: its reference text and what it is."""

    kind: str  # "slim", "jre", "slim+jre", "alpine"
    text: str
    image: CatalogImage


def counterparts(image: CatalogImage, mode: str = "slim") -> tuple[list[Counterpart], str | None]:
    """The smaller variants of ``image`` a swap may use, smallest first, for ``mode`` "slim"
    (slim and JRE variants, which keep the distribution) or "alpine"; and, when there is none,
    why."""
    if image.repository == "distroless":
        return [], f"{image.text} is already a distroless image"
    spec = image.spec
    available = spec.get("counterparts", {})
    kinds = ["alpine"] if mode == "alpine" else [k for k in ("slim", "jre") if k in available]
    if mode == "alpine" and "alpine" not in available:
        return [], f"{image.repository} has no Alpine variant"
    if mode != "alpine" and not kinds:
        return [], _no_slim_reason(image)
    found: list[Counterpart] = []
    reasons: list[str] = []
    combos = [[k] for k in kinds] + ([kinds] if len(kinds) > 1 else [])
    for combo in combos:
        result = _apply(image, combo)
        if isinstance(result, str):
            reasons.append(result)
            continue
        found.append(Counterpart("+".join(combo), result.text, result))
    unique = {c.text: c for c in found if c.text != image.text}
    ordered = sorted(unique.values(), key=lambda c: (c.image.size or 1 << 62))
    if not ordered:
        return [], reasons[0] if reasons else f"{image.text} has no smaller variant"
    return ordered, None


def _no_slim_reason(image: CatalogImage) -> str:
    reasons = {
        "golang": "golang has no slim variant: a Go program belongs on a release stage (SF901)",
        "php": "php has no slim variant (its images keep the compiler for docker-php-ext-install)",
        "maven": "maven is a build image: the jar belongs on a JRE release stage (SF901)",
        "gradle": "gradle is a build image: the jar belongs on a JRE release stage (SF901)",
        "ubuntu": "ubuntu has no slim variant (its images are already minimal)",
    }
    return reasons.get(image.repository, f"{image.repository} has no slim variant")


def _apply(image: CatalogImage, kinds: list[str]) -> CatalogImage | str:
    """``image`` with the slots of each counterpart kind set; the target must be an image the
    catalog knows, on the same distribution (Alpine excepted), or the reason there is none."""
    spec = image.spec
    tag = image.tag
    for kind in kinds:
        rule = spec["counterparts"][kind]
        limit = spec.get("counterpart_max_version", {}).get(kind)
        if limit is not None and (_major(tag.version) is None or _major(tag.version) > limit):
            return f"{image.repository} has {kind} tags up to version {limit} only"
        if rule == "distribution":
            return _distribution_image(image)
        problem = _precondition(image, tag, kind)
        if problem:
            return problem
        slots = dict(part.split("=", 1) for part in rule.split(","))
        tag = tag.with_slots(**{slot: (value or None) for slot, value in slots.items()})
        if kind == "slim" and not tag.version and not tag.suite and spec.get("bare"):
            tag = tag.with_slots(suite=spec["bare"])  # debian:latest -> debian:stable-slim
    text = image.with_tag(tag)
    target = lookup(text)
    if target is None:
        return f"{text} is not an image slimfile knows"
    if kinds != ["alpine"] and target.distribution != image.distribution:
        return f"{image.text} is {image.suite}, {text} is {target.suite}: the distribution would change"
    return target


def _precondition(image: CatalogImage, tag: Tag, kind: str) -> str | None:
    if image.spec.get("counterparts_need_version") and not tag.version:
        return f"{image.text} has no {kind} form without a version"
    if catalog()["suites"].get(tag.suite or "", {}).get("no_slim") and kind == "slim":
        return f"{image.text} has no slim variant"
    if tag.flavour:
        return f"{image.text} ({tag.flavour}) has no {kind} variant"
    if kind == "alpine":
        if image.distribution == "alpine":
            return f"{image.text} is already an Alpine image"
        if image.facts.get("no_alpine"):
            return f"{image.text} has no Alpine variant"
        return None
    if image.distribution not in ("debian", "ubuntu"):
        return f"{image.text} is built on {image.suite}, which has no {kind} variant"
    if kind == "jre" and tag.variant not in (None, "jdk"):
        return f"{image.text} is not a JDK image" if tag.variant != "jre" else f"{image.text} is already the JRE"
    if kind == "slim" and (tag.variant == "slim" or tag.size == "slim"):
        return f"{image.text} is already the slim variant"
    if kind == "slim" and tag.variant not in (None, "jdk", "jre"):
        return f"{image.text} has no slim variant"
    return None


def _distribution_image(image: CatalogImage) -> CatalogImage | str:
    """buildpack-deps:<suite>[-curl|-scm] -> the suite's own image."""
    spec = image.spec
    suite = image.tag.suite or (None if image.tag.version else spec.get("bare"))
    distribution = "ubuntu" if image.tag.version else distribution_of(suite)
    template = spec.get("distribution_images", {}).get(distribution)
    if template is None:
        return f"{image.text} has no smaller counterpart"
    text = template.format(suite=image.tag.version or suite)
    target = lookup(text)
    return target if target is not None else f"{text} is not an image slimfile knows"


# -- runtime bases for a multi-stage split ----------------------------------------------------------


@dataclass(frozen=True)
class RuntimeBase:
    """The base a release stage runs on."""

    text: str
    size: int | None
    shell: bool
    users: frozenset[str]
    package_manager: str  # "apt", "apk", "" (none)
    image: CatalogImage | None


def runtime_base(build: ImageRef | str, recipe: str) -> RuntimeBase | None:
    """The smallest compatible runtime base for what a stage built on ``build`` makes:
    ``recipe`` is a key of ``[runtime_bases]`` (go-static, go-dynamic, rust, python, node, ruby,
    java, static-site, scratch). ``golang:1.21`` + go-static -> distroless static;
    ``python:3.11-bookworm`` + python -> ``python:3.11-slim-bookworm``; ``maven:3-eclipse-
    temurin-17`` + java -> ``eclipse-temurin:17-jre``; ``rust:1-bookworm`` + rust ->
    ``debian:bookworm-slim``. None when the build image is unknown or has no such base."""
    rule = catalog()["runtime_bases"].get(recipe)
    if rule is None:
        return None
    image = lookup(build) if not isinstance(build, CatalogImage) else build
    if "counterpart" in rule:
        if image is None:
            return None
        if image.variant == rule["counterpart"]:
            return _runtime(image.text, image)
        found, _reason = counterparts(image)
        chosen = next((c for c in found if c.kind == rule["counterpart"]), None)
        return _runtime(chosen.text, chosen.image) if chosen else None
    values = {"suite": None, "java": None}
    if image is not None:
        values["suite"] = image.debian_suite or image.suite
        values["java"] = image.java_version
    template: str = rule["image"]
    if ("{suite}" in template and not values["suite"]) or ("{java}" in template and not values["java"]):
        return None
    text = template.format(**values)
    return _runtime(text, lookup(text))


def _runtime(text: str, image: CatalogImage | None) -> RuntimeBase:
    if text == "scratch":
        return RuntimeBase(text, 0, False, frozenset({"root"}), "", None)
    if image is None:
        return RuntimeBase(text, None, True, frozenset({"root"}), "", None)
    manager = catalog()["distributions"].get(_family(image.distribution), {}).get("package_manager", "")
    return RuntimeBase(text, image.size, image.has_shell, image.users, manager, image)


def _family(distribution: str) -> str:
    return distribution if distribution in catalog()["distributions"] else "none"


def tag_fields(tag: Tag) -> dict[str, Any]:
    """The non-empty slots of a tag, for reports and JSON."""
    return {f.name: getattr(tag, f.name) for f in fields(tag) if getattr(tag, f.name)}
