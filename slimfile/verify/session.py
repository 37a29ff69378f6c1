"""One ``slimfile verify`` run: rewrite the Dockerfile, build both versions, compare them.

The order is fixed so that the measures are fair: each Dockerfile is built cold (``--no-cache``,
base images present) and then rebuilt warm after a one-line change to the same application file;
only then are the two cold-built images inspected, exported and run. Everything built is removed
at the end unless ``keep`` is set, and the changed application file is always restored: also on
Ctrl-C, SIGTERM (a CI time limit, ``timeout(1)``) or SIGHUP, which stop the running build, and
whatever containers verify created are removed too (slimfile/signals.py).
"""

from __future__ import annotations

import re
import secrets
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from slimfile.analysis.build_context import (
    ContextListing,
    IgnoreFileUnread,
    dockerignore_candidates,
    list_context,
    load_dockerignore,
)
from slimfile.analysis.globs import DockerIgnore
from slimfile.analysis.summary import image_config
from slimfile.engine import FixResult, PassFunction, Settings, fix_source
from slimfile.signals import Interrupted, stop_signals_held, stop_signals_raise
from slimfile.syntax.errors import DockerfileError
from slimfile.syntax.nodes import Dockerfile
from slimfile.syntax.parser import parse
from slimfile.verify import attribution, layers
from slimfile.verify.app_files import (
    AppPaths,
    CopyStep,
    app_paths,
    assignments,
    copy_steps,
    expand,
)
from slimfile.verify.build import BUILD_TRIES, BuildResult, run_build
from slimfile.verify.cache import Probe, pick_probe, warm_rebuild
from slimfile.verify.config_diff import config_differences
from slimfile.verify.docker_engine import Engine, EngineError
from slimfile.verify.fs_diff import FsDiff, Manifest, diff_manifests, read_manifest, remove_noise
from slimfile.verify.ignore_rules import IgnoreRules, default_rules
from slimfile.verify.progress import Progress, SilentProgress
from slimfile.verify.report import ImageFacts, RewriteSummary, VerifyReport
from slimfile.verify.run_compare import DEFAULT_TIMEOUT, compare_runs
from slimfile.verify.stages import UnknownTarget, needed_stages, stage_chain
from slimfile.verify.verdict import Problem, allowed_differences, config_problems, declared_removals, file_problems

REPOSITORY = "slimfile-verify"


class UsageError(Exception):
    """Bad arguments: exit code 2."""


@dataclass
class VerifyRequest:
    dockerfile: Path
    context: Path | None = None  # default: the Dockerfile's directory
    target: str | None = None
    settings: Settings = field(default_factory=Settings)
    run: str | None = None  # a command for both images; "" runs their own CMD
    per_fix: bool = False
    keep: bool = False
    run_timeout: float = DEFAULT_TIMEOUT
    # a hand-written rewrite to verify instead of slimfile's (benchmarks compare an expert's
    # Dockerfile this way); no fix is applied, so every difference counts as undeclared
    rewritten: Path | None = None


@dataclass
class Prepared:
    """The parsed original, its rewrite and the facts verify needs from them."""

    source: bytes
    original: Dockerfile
    fixed: FixResult
    fixed_tree: Dockerfile
    context: Path
    # a .dockerignore the fixes create: the rewrite is built with it (BuildKit reads the
    # Dockerfile's own <name>.dockerignore, so it goes next to the rewritten Dockerfile)
    created_ignore: bytes | None = None
    ignore: DockerIgnore = field(default_factory=lambda: DockerIgnore([]))  # the original's ignore file


def verify(
    request: VerifyRequest,
    *,
    passes: Sequence[PassFunction] | None = None,
    engine: Engine | None = None,
    progress: Progress | None = None,
    rules: IgnoreRules | None = None,
) -> VerifyReport:
    """Run the whole verification and return its report (``report.exit_code`` says how it went)."""
    context = (request.context or request.dockerfile.parent).resolve()
    report = VerifyReport(str(request.dockerfile), str(context), request.target, request.settings.unsafe_fixes)
    try:
        prepared = prepare(request, context, passes)
    except (DockerfileError, UsageError) as exc:
        report.error = str(exc)
        return report
    report.rewrite = rewrite_summary(prepared.fixed)
    try:
        engine = engine or Engine.connect()
        report.engine = engine.versions()
    except EngineError as exc:
        report.error = str(exc)
        return report
    session = Session(request, prepared, engine, progress or SilentProgress(), rules or default_rules(), report, passes)
    session.run()
    return report


def prepare(request: VerifyRequest, context: Path, passes: Sequence[PassFunction] | None) -> Prepared:
    from slimfile.files import read_dockerfile

    source = read_dockerfile(str(request.dockerfile))
    if not context.is_dir():
        raise UsageError(f"{context}: the build context is not a directory")
    try:
        ignore = load_dockerignore(context, request.dockerfile.resolve())
    except IgnoreFileUnread as exc:  # what the builds would send is unknown
        raise UsageError(f"{context}: {exc}") from None
    original = parse(source, path=str(request.dockerfile), buildkit=request.settings.buildkit)
    try:
        stage_chain(original, request.target)
    except UnknownTarget as exc:
        raise UsageError(f"--target: {exc}") from None
    if request.rewritten is not None:
        fixed = FixResult(str(request.dockerfile), source, read_dockerfile(str(request.rewritten)), [], [], [], 0)
    else:
        fixed = fix_source(source, str(request.dockerfile), request.settings, passes)
    fixed_tree = parse(fixed.output, path=str(request.dockerfile), buildkit=request.settings.buildkit)
    return Prepared(source, original, fixed, fixed_tree, context, created_ignore(fixed, context, request.dockerfile), ignore)


def created_ignore(result: FixResult, context: Path, dockerfile: Path) -> bytes | None:
    """The ignore file the fixes create for this build, if any. verify builds in a scratch
    folder and never writes the user's tree; a created file it cannot place is an error."""
    candidates = set(dockerignore_candidates(context, dockerfile.resolve()))
    found = None
    for new in result.created:
        if Path(new.path).resolve() not in candidates:
            raise UsageError(f"a fix creates {new.path}, which verify cannot build with (only an ignore file of this build)")
        found = new.content
    return found


def rewrite_summary(result: FixResult) -> RewriteSummary:
    applied = [
        {
            "code": f.rule.code,
            "name": f.rule.name,
            "line": f.line,
            "safety": f.fix.safety.value if f.fix else None,
            "declares": sorted(f.fix.declares) if f.fix else [],
        }
        for f in result.applied
    ]
    declares = sorted({name for f in result.applied if f.fix is not None for name in f.fix.declares})
    rejected = [f"{r.finding.rule.code} line {r.finding.line}: {r.reason}" for r in result.rejected]
    return RewriteSummary(result.changed, applied, declares, rejected)


def image_slug(dockerfile: Path, context: Path) -> str:
    """A tag-safe name for the images of this run, from the context directory's name."""
    name = context.name or dockerfile.parent.name or "image"
    slug = re.sub(r"[^a-z0-9_.-]+", "-", name.lower()).strip(".-") or "image"
    return f"{slug[:40]}-{secrets.token_hex(4)}"


class Session:
    def __init__(
        self,
        request: VerifyRequest,
        prepared: Prepared,
        engine: Engine,
        progress: Progress,
        rules: IgnoreRules,
        report: VerifyReport,
        passes: Sequence[PassFunction] | None,
    ) -> None:
        self.request = request
        self.prepared = prepared
        self.engine = engine
        self.progress = progress
        self.rules = rules
        self.report = report
        self.passes = passes
        self.slug = image_slug(request.dockerfile, prepared.context)
        engine.container_prefix = f"{REPOSITORY}-{self.slug}"
        self.built: list[str] = []
        self.base_workdirs: dict[str, str] = {}
        self.excluded_by_ignore: set[str] = set()  # image paths a created ignore file keeps out

    def tag(self, role: str) -> str:
        tag = f"{REPOSITORY}:{self.slug}-{role}"
        self.built.append(tag)
        return tag

    def run(self) -> None:
        with tempfile.TemporaryDirectory(prefix="slimfile-verify-") as scratch, stop_signals_raise():
            self.scratch = Path(scratch)
            try:
                self._verify()
            except EngineError as exc:
                self.report.error = str(exc)
            except (KeyboardInterrupt, Interrupted):
                self._interrupted()
            finally:
                with stop_signals_held() as held:  # a second Ctrl-C must not leave half of it behind
                    self.progress.phase("removing the images verify built" if not self.request.keep else "keeping the images")
                    self._clean_up()
                    self.progress.close()
                if held:
                    self._interrupted()

    def _interrupted(self) -> None:
        self.report.interrupted = True
        self.report.error = "interrupted"

    # the steps --------------------------------------------------------------------------------

    def _verify(self) -> None:
        original_path = self.request.dockerfile.resolve()
        fixed_path = self._write_fixed_dockerfile(original_path)
        probe, apps = self._app_facts()
        before = self._build_image("original", original_path, "before", probe)
        if not before.build.ok:
            self.report.error = "the original Dockerfile does not build, so there is nothing to compare"
            self.report.error_log = before.build.log_tail
            return
        self.report.before = before
        after = self._build_image("rewritten", fixed_path, "after", probe)
        self.report.after = after
        if not after.build.ok:
            self._rewrite_does_not_build(after)
            return
        self._describe(before, self.prepared.original)
        self._describe(after, self.prepared.fixed_tree)
        self._compare(before, after, apps)
        if self.request.per_fix:
            self._per_fix(before, after)

    def _rewrite_does_not_build(self, after: ImageFacts) -> None:
        """A problem of the rewrite only if the original still builds now: when it fails too,
        the package index, network or engine failed both, and that says nothing of the rewrite."""
        self.progress.phase("the rewrite does not build: building the original again to tell a fault of the rewrite from one of the network")
        recheck = self._original_again("recheck", tries=1)
        if not recheck.ok:
            self.report.error = (
                "the rewritten Dockerfile does not build, and the original no longer builds either "
                "(its first build succeeded): the network, a package index or the engine failed, not the rewrite"
            )
            self.report.error_log = recheck.log_tail
            return
        self.report.problems.append(Problem("build", "the rewritten Dockerfile does not build:\n" + "\n".join(after.build.log_tail)))

    def _write_fixed_dockerfile(self, original_path: Path) -> Path:
        """Outside the context (the user's tree is never written); a Dockerfile-specific
        ``.dockerignore`` is copied along, since BuildKit looks for it next to the Dockerfile."""
        fixed_path = self.scratch / "Dockerfile.slimfile"
        fixed_path.write_bytes(self.prepared.fixed.output)
        self._place_ignore_file(original_path, fixed_path, self.prepared.created_ignore)
        return fixed_path

    @staticmethod
    def _place_ignore_file(original_path: Path, fixed_path: Path, created: bytes | None) -> None:
        """The rewrite's ignore file next to it: the one a fix creates, else the original's own."""
        target = fixed_path.with_name(fixed_path.name + ".dockerignore")
        specific_ignore = original_path.with_name(original_path.name + ".dockerignore")
        if created is not None:
            target.write_bytes(created)
        elif specific_ignore.is_file():
            shutil.copyfile(specific_ignore, target)

    def _app_facts(self) -> tuple[Probe | None, AppPaths]:
        context = self.prepared.context
        listing = list_context(context, self.prepared.ignore)
        listing_after = self._listing_after(listing)
        steps_before = self._copy_steps(self.prepared.original)
        try:
            steps_after = self._copy_steps(self.prepared.fixed_tree)
        except UnknownTarget:  # the rewrite lost the target stage: its build will say so
            steps_after = []
        # the probe must be a file both builds receive
        probe = pick_probe(self._copy_steps_of_every_stage(self.prepared.original), listing_after, context)
        paths_before, paths_after = app_paths(steps_before, listing), app_paths(steps_after, listing_after)
        apps = AppPaths(paths_before.exact | paths_after.exact, set(paths_before.trees) | set(paths_after.trees))
        self.report.app_paths = apps.to_dict()
        if listing_after is not listing:
            # what the rewrite's copies would bring from the original context, minus what they
            # bring now: the files the created ignore file keeps out (declared by the fix)
            self.excluded_by_ignore = app_paths(steps_after, listing).exact - paths_after.exact
        return probe, apps

    def _listing_after(self, listing: ContextListing) -> ContextListing:
        """What the rewrite's build receives: the original context, or with the created ignore file."""
        created = self.prepared.created_ignore
        if created is None:
            return listing
        return list_context(self.prepared.context, DockerIgnore.from_text(created.decode("utf-8", "replace")))

    def _copy_steps(self, tree: Dockerfile, target: str | None = None) -> list[CopyStep]:
        """COPY/ADD of the stages whose files end up in the image (the FROM chain of the target)."""
        chain = stage_chain(tree, target or self.request.target)
        global_env = _global_args(tree)
        return copy_steps(chain, self._base_workdir(chain[0].image_text, global_env), global_env)

    def _copy_steps_of_every_stage(self, tree: Dockerfile) -> list[CopyStep]:
        """COPY/ADD of every stage the build runs (a builder stage's sources count for the cache)."""
        steps: dict[int, CopyStep] = {}
        for stage in needed_stages(tree, self.request.target):
            for step in self._copy_steps(tree, str(stage.index)):
                steps.setdefault(step.line, step)
        return [steps[line] for line in sorted(steps)]

    def _base_workdir(self, image_text: str, global_env: dict[str, str]) -> str:
        """The WORKDIR a stage starts in is its base image's (a relative COPY lands there);
        looked up once per image."""
        reference = expand(image_text, global_env)
        if reference not in self.base_workdirs:
            known = reference and reference.lower() != "scratch" and self.engine.has_image(reference)
            config = (self.engine.inspect(reference).get("Config") or {}) if known else {}
            self.base_workdirs[reference] = config.get("WorkingDir") or "/"
        return self.base_workdirs[reference]

    def _build_image(self, label: str, dockerfile: Path, role: str, probe: Probe | None) -> ImageFacts:
        options: dict[str, Any] = {"workdir": self.scratch, "target": self.request.target, "on_line": self.progress.build_line}
        self.progress.phase(f"building the {label} Dockerfile (cold: no cache)")
        build = run_build(self.engine, dockerfile, self.prepared.context, self.tag(role), no_cache=True, **options)
        facts = ImageFacts(tag=build.tag, build=build)
        if build.ok:
            where = f" after a one-line change to {probe.context_path}" if probe else ""
            self.progress.phase(f"rebuilding the {label} Dockerfile warm{where}")
            facts.warm = warm_rebuild(self.engine, dockerfile, self.prepared.context, self.tag(f"{role}-warm"), probe, **options)
        return facts

    def _describe(self, facts: ImageFacts, tree: Dockerfile) -> None:
        inspect = self.engine.inspect(facts.tag)
        facts.size = int(inspect.get("Size") or 0)
        facts.layers = len((inspect.get("RootFS") or {}).get("Layers") or [])
        facts.config = inspect.get("Config") or {}
        rows = layers.rows_from_history(self.engine.history(facts.tag))
        facts.rows = layers.attribute(rows, tree, self.request.target)

    def _compare(self, before: ImageFacts, after: ImageFacts, apps: AppPaths) -> None:
        report = self.report
        rewrite = report.rewrite
        allowed = allowed_differences(rewrite.declares if rewrite else ())
        report.layer_changes = layers.compare_layers(before.rows, after.rows)
        report.config_changes = config_differences(before.config, after.config)
        report.problems += config_problems(report.config_changes, allowed, self._config_set_by_dockerfiles())
        self.progress.phase("exporting both images and comparing their files")
        original = self._manifest(before.tag)
        report.files = diff_manifests(original, self._manifest(after.tag), self.rules, apps)
        if report.files.changes:
            report.files = self._without_nondeterminism(report.files, original, apps)
        if "build-context" in (rewrite.declares if rewrite else ()):
            report.files = declared_removals(report.files, self.excluded_by_ignore)
        report.problems += file_problems(report.files, allowed, rewrite.declares if rewrite else ())
        if self.request.run is not None:
            self.progress.phase(f"running both images: {self.request.run or '(their own CMD)'}")
            report.run = compare_runs(self.engine, before.tag, after.tag, self.request.run, self.request.run_timeout)
            if differences := report.run.differences():
                report.problems.append(Problem("run", f"--run {self.request.run!r}: " + "; ".join(differences)))

    def _config_set_by_dockerfiles(self) -> frozenset[str]:
        """Config the two Dockerfiles set themselves (``Cmd``, ``Env:PORT``): a base-image
        change may change everything else."""
        found: set[str] = set()
        for tree in (self.prepared.original, self.prepared.fixed_tree):
            for key, value in image_config(tree).items():
                if isinstance(value, dict):
                    found.update(f"{key}:{name}" for name in value)
                elif value:
                    found.add(key)
        return frozenset(found)

    def _without_nondeterminism(self, files: FsDiff, original: Manifest, apps: AppPaths) -> FsDiff:
        """Build the original once more, cold: what differs between its two builds is noise of
        the build itself (timestamps in archives, bytecode), not a change the rewrite made."""
        self.progress.phase("files differ: building the original again (control) to tell noise from change")
        control = self._original_again("control")
        if not control.ok:
            self.report.error_log = control.log_tail
            raise EngineError("the control build of the original failed although its first build succeeded")
        return remove_noise(files, diff_manifests(original, self._manifest(control.tag), self.rules, apps))

    def _original_again(self, role: str, tries: int = BUILD_TRIES) -> BuildResult:
        """The original built once more, cold (the control build, the recheck of a rewrite
        that does not build)."""
        return run_build(
            self.engine, self.request.dockerfile.resolve(), self.prepared.context, self.tag(role),
            workdir=self.scratch, target=self.request.target, no_cache=True, on_line=self.progress.build_line, tries=tries,
        )

    def _manifest(self, tag: str) -> Manifest:
        try:
            with self.engine.exported_filesystem(tag) as stream:
                return read_manifest(stream)
        except EngineError:
            raise
        except Exception as exc:  # the SDK's stream errors surface while the tar is read
            raise EngineError(f"exporting {tag} failed: {exc}") from None

    def _per_fix(self, before: ImageFacts, after: ImageFacts) -> None:
        """Build each rule's rewrites (with the cache); identical rewrites (the Dockerfile and
        the ignore file the fixes create) are built once."""
        fixed = self.prepared.fixed
        codes = attribution.applied_codes(fixed)
        plan = attribution.plan_rewrites(self.prepared.source, str(self.request.dockerfile), self.request.settings, codes, self.passes)
        sizes: dict[tuple[bytes, bytes | None], int | None] = {
            (self.prepared.source, None): before.size,
            (fixed.output, self.prepared.created_ignore): after.size,
        }
        previous = before.size
        for index, code in enumerate(codes):
            saving = attribution.describe_rule(code, fixed, plan.alone[index])
            saving.failed_builds = []
            if saving.fixes_alone:
                saving.size_alone = self._size_of(plan.alone[index], f"only {code}", sizes, saving.failed_builds)
                saving.saved_alone = _difference(before.size, saving.size_alone)
            cumulative = self._size_of(plan.in_sequence[index], f"{code} on top of the rules before it", sizes, saving.failed_builds)
            saving.saved_in_sequence = _difference(previous, cumulative)
            previous = cumulative
            self.report.per_fix.append(saving)
            for label, _build in saving.failed_builds:
                self.report.problems.append(Problem("per-fix", f"the Dockerfile with {label} does not build"))

    def _size_of(self, rewrite: FixResult, label: str, sizes: dict, failed: list) -> int | None:
        """The image size of a rewrite (``None`` if it does not build; failures go to ``failed``)."""
        ignore = created_ignore(rewrite, self.prepared.context, self.request.dockerfile)
        key = (rewrite.output, ignore)
        if key in sizes:
            return sizes[key]
        self.progress.phase(f"per fix: building with {label}")
        number = len(sizes)
        path = self.scratch / f"Dockerfile.per-fix-{number}"
        path.write_bytes(rewrite.output)
        self._place_ignore_file(self.request.dockerfile.resolve(), path, ignore)
        build = run_build(
            self.engine, path, self.prepared.context, self.tag(f"per-fix-{number}"),
            workdir=self.scratch, target=self.request.target, on_line=self.progress.build_line,
        )
        if not build.ok:
            failed.append((label, build))
        sizes[key] = int(self.engine.inspect(build.tag).get("Size") or 0) if build.ok else None
        return sizes[key]

    def _clean_up(self) -> None:
        """Stop a build an interrupt left running, remove the containers, then the images."""
        self.engine.stop_builds()
        containers = self.engine.remove_containers()
        self.report.built_images = list(self.built)
        if self.request.keep:
            self.report.kept_images = [tag for tag in self.built if self.engine.has_image(tag)]
            self.report.not_removed = containers
            return
        self.report.not_removed = containers + self.engine.remove_images(self.built)


def _global_args(tree: Dockerfile) -> dict[str, str]:
    """Default values of the ARGs before the first FROM (they can name the base image)."""
    values: dict[str, str] = {}
    for instruction in tree.stages.global_args:
        values.update(assignments(instruction))
    return values


def _difference(before: int | None, after: int | None) -> int | None:
    return before - after if before is not None and after is not None else None
