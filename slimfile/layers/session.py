"""One ``slimfile layers`` run: (build,) read the image's layers, measure waste, match rules.

With a Dockerfile and no image, the image is built first with verify's engine (BuildKit, host
network, the build cache used), tagged ``slimfile-layers:<context>-<random>`` and removed at the
end unless ``keep``. An image given by reference is only read: ``docker image inspect``,
``docker history`` and ``docker save`` (streamed).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from slimfile.engine import PassFunction, Settings, lint
from slimfile.layers.catalog import Catalog, default_catalog
from slimfile.layers.contents import LayerContents, SavedImage, SavedImageError, read_saved_image
from slimfile.layers.fixes import RuleIndex
from slimfile.layers.origins import LayerOrigin, layer_origins
from slimfile.layers.report import LayerReport, LayersReport, WasteItem
from slimfile.layers.waste import WasteBucket, largest_files, largest_folders, measure_waste, waste_by_layer
from slimfile.syntax.errors import DockerfileError
from slimfile.syntax.nodes import Dockerfile
from slimfile.syntax.parser import parse
from slimfile.verify.build import Step, run_build
from slimfile.verify.docker_engine import Engine, EngineError
from slimfile.verify.progress import Progress, SilentProgress
from slimfile.verify.report import human_size
from slimfile.verify.session import image_slug
from slimfile.verify.stages import UnknownTarget, stage_chain

REPOSITORY = "slimfile-layers"


@dataclass
class LayersRequest:
    image: str | None = None  # an image reference; None: build ``dockerfile`` first
    dockerfile: Path | None = None  # for line numbers and rules (and the build)
    context: Path | None = None  # default: the Dockerfile's directory
    target: str | None = None
    settings: Settings = field(default_factory=Settings)
    keep: bool = False  # keep the image built for the report
    top: int = 5  # largest files and folders per layer
    depth: int = 3  # folders are cut at this many path components
    fail_under: float | None = None  # percent


class LayersError(Exception):
    """The report cannot be made (exit code 2)."""


def analyze(
    request: LayersRequest,
    *,
    engine: Engine | None = None,
    progress: Progress | None = None,
    catalog: Catalog | None = None,
    passes: Sequence[PassFunction] | None = None,
) -> LayersReport:
    progress = progress or SilentProgress()
    report = LayersReport(
        image=request.image or "",
        dockerfile=str(request.dockerfile) if request.dockerfile else None,
        target=request.target,
        fail_under=request.fail_under,
    )
    built: list[str] = []
    try:
        tree, index = read_dockerfile(request, report, catalog or default_catalog(), passes)
        engine = engine or Engine.connect()
        report.engine = engine.versions()
        with tempfile.TemporaryDirectory(prefix="slimfile-layers-") as scratch:
            steps = _build_if_asked(request, report, engine, progress, Path(scratch), built)
            _measure(request, report, engine, progress, tree, index, catalog or default_catalog(), steps)
    except (LayersError, EngineError, DockerfileError, SavedImageError) as exc:
        report.error = str(exc)
    except KeyboardInterrupt:
        report.interrupted = True
        report.error = "interrupted"
    finally:
        if built:
            progress.phase("keeping the image" if request.keep else "removing the image built for the report")
            report.not_removed = [] if request.keep else engine.remove_images(built)
        progress.close()
    return report


def read_dockerfile(
    request: LayersRequest, report: LayersReport, catalog: Catalog, passes: Sequence[PassFunction] | None = None
) -> tuple[Dockerfile | None, RuleIndex | None]:
    """The parsed Dockerfile and its findings, indexed for waste items (None without one)."""
    from slimfile.files import InputError, read_dockerfile
    from slimfile.pipeline import all_rules

    if request.dockerfile is None:
        report.notes.append("no Dockerfile given (--dockerfile): layers are not matched to lines, and no rule is checked")
        return None, None
    context = (request.context or request.dockerfile.parent).resolve()
    report.context = str(context)
    try:
        source = read_dockerfile(str(request.dockerfile))
    except InputError as exc:
        raise LayersError(str(exc)) from None
    tree = parse(source, path=str(request.dockerfile), buildkit=request.settings.buildkit)
    try:
        stage_chain(tree, request.target)
    except UnknownTarget as exc:
        raise LayersError(f"--target: {exc}") from None
    settings = replace(request.settings, build_context=str(context))
    findings = lint(tree, settings, passes)
    return tree, RuleIndex(findings, tree, all_rules(), catalog.rule_scope)


def _build_if_asked(
    request: LayersRequest, report: LayersReport, engine: Engine, progress: Progress, scratch: Path, built: list[str]
) -> list[Step] | None:
    if request.image is not None:
        return None
    assert request.dockerfile is not None
    context = Path(report.context or request.dockerfile.parent)
    if not context.is_dir():
        raise LayersError(f"{context}: the build context is not a directory")
    tag = f"{REPOSITORY}:{image_slug(request.dockerfile, context)}"
    built.append(tag)
    progress.phase(f"building {request.dockerfile} (context {context})")
    build = run_build(
        engine, request.dockerfile.resolve(), context, tag, workdir=scratch, target=request.target, on_line=progress.build_line
    )
    report.build = build
    if not build.ok:
        report.error_log = build.log_tail
        raise LayersError(f"{request.dockerfile} does not build")
    report.image = report.built_tag = tag
    return build.steps


def _measure(
    request: LayersRequest,
    report: LayersReport,
    engine: Engine,
    progress: Progress,
    tree: Dockerfile | None,
    index: RuleIndex | None,
    catalog: Catalog,
    steps: list[Step] | None,
) -> None:
    if not engine.has_image(report.image):
        raise LayersError(f"image not found: {report.image} (slimfile layers never pulls; build or pull it first)")
    inspect = engine.inspect(report.image)
    report.image_id = inspect.get("Id")
    report.image_size = int(inspect.get("Size") or 0)
    history = engine.history(report.image)
    progress.phase(f"reading the layers of {report.image} ({human_size(report.image_size)})")
    with engine.saved_image(report.image) as stream:
        try:
            saved = read_saved_image(stream, on_layer=lambda name: progress.phase(f"reading layer {name[:24]}"))
        except SavedImageError:
            raise
        except Exception as exc:  # the SDK's stream errors surface while the tar is read
            raise EngineError(f"reading the image {report.image} failed: {exc}") from None
    progress.phase("measuring waste")
    fill_report(report, request, saved, history, tree, index, catalog, steps)


def fill_report(
    report: LayersReport,
    request: LayersRequest,
    saved: SavedImage,
    history: list[dict],
    tree: Dockerfile | None,
    index: RuleIndex | None,
    catalog: Catalog,
    steps: list[Step] | None = None,
) -> None:
    """Everything the report says, from the saved image, its history and the Dockerfile (no
    engine needed: tests feed it archives they made)."""
    diff_ids = list((saved.config.get("rootfs") or {}).get("diff_ids") or [])
    origins = layer_origins(history, saved.config, len(saved.layers), tree, request.target, steps)
    report.base_image, report.base_line, report.mismatches = origins.base_image, origins.base_line, origins.mismatches
    env = dict(item.split("=", 1) for item in ((saved.config.get("config") or {}).get("Env") or []) if "=" in item)
    result = measure_waste(saved.layers, catalog, catalog.classifier(env))
    report.final_bytes, report.final_files, report.hidden_bytes = result.final_bytes, result.final_files, result.hidden_bytes
    per_layer = waste_by_layer(result.buckets)
    for number, (layer, origin) in enumerate(zip(saved.layers, origins.layers), start=1):
        report.layers.append(_layer_report(number, layer, origin, diff_ids, per_layer.get(number - 1, 0), index, request))
    report.waste = sorted(
        (_item(bucket, origins.layers, index, catalog) for bucket in result.buckets), key=lambda item: (-item.bytes, item.layer)
    )


def _layer_report(
    number: int, layer: LayerContents, origin: LayerOrigin, diff_ids: list[str], waste: int, index: RuleIndex | None, request: LayersRequest
) -> LayerReport:
    files = sum(1 for r in layer.files.values() if r.kind != "dir")
    fixes = []
    if index is not None and origin.origin == "dockerfile" and origin.line is not None:
        fixes = index.on_lines(origin.line, origin.end_line or origin.line)
    return LayerReport(
        index=number,
        diff_id=diff_ids[number - 1] if number - 1 < len(diff_ids) else "",
        origin=origin,
        file_bytes=layer.file_bytes,
        symlink_bytes=layer.symlink_bytes,
        files=files,
        deleted_paths=len(layer.whiteouts) + len(layer.opaque),
        waste_bytes=waste,
        largest_files=largest_files(layer, request.top),
        largest_folders=largest_folders(layer, request.top, request.depth),
        fixes=fixes,
    )


def _item(bucket: WasteBucket, origins: list[LayerOrigin], index: RuleIndex | None, catalog: Catalog) -> WasteItem:
    origin = origins[bucket.layer]
    other = origins[bucket.other_layer] if bucket.other_layer is not None else None
    item = WasteItem(
        layer=bucket.layer + 1,
        kind=bucket.kind,
        category=bucket.category.name,
        title=bucket.category.title,
        bytes=bucket.bytes,
        files=bucket.files,
        examples=bucket.examples,
        line=origin.line,
        instruction=origin.history_text,
        from_base=origin.origin == "base",
        other_layer=bucket.other_layer + 1 if bucket.other_layer is not None else None,
        other_line=other.line if other is not None and other.origin == "dockerfile" else None,
    )
    if index is not None and origin.fix_origin is not None:
        item.rule = index.resolve(_candidates(bucket, origin.fix_origin, catalog), [origin.line, item.other_line], origin.stage_index)
    return item


def _candidates(bucket: WasteBucket, fix_origin: str, catalog: Catalog) -> tuple[str, ...]:
    """Rules for hidden bytes first (moving the cleanup), then the category's own."""
    first = catalog.hidden[bucket.kind].rules_for(fix_origin) if bucket.kind in catalog.hidden else ()
    return tuple(dict.fromkeys((*first, *bucket.category.rules_for(fix_origin))))
