"""A small image made in memory (a ``docker save`` archive with its history) and the
Dockerfile it stands for, turned into a report without an engine."""

from __future__ import annotations

from pathlib import Path

from slimfile.layers.catalog import default_catalog
from slimfile.layers.contents import read_saved_image
from slimfile.layers.report import LayersReport
from slimfile.layers.session import LayersRequest, fill_report, read_dockerfile
from tests.layers.saved_images import Layer, history_and_config, saved_archive
from tests.verify.tarfiles import Item

DOCKERFILE = b"""FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends jq
COPY . /app
RUN rm -rf /var/lib/apt/lists/*
RUN pip install flask
ENV MODE=prod
CMD ["jq", "--version"]
"""

LAYERS = [
    Layer([Item("usr/bin/jq-base", b"b" * 4000), Item("usr/share/doc/base/copyright", b"c" * 500)], created_by=""),
    Layer(
        [Item("var/lib/apt/lists/deb_Packages", b"p" * 20000), Item("usr/bin/jq", b"j" * 3000), Item("usr/share/doc/jq/README", b"r" * 100)],
        created_by="RUN /bin/sh -c apt-get update && apt-get install -y --no-install-recommends jq # buildkit",
    ),
    Layer([Item("app/main.sh", b"echo <hi> & 'bye'"), Item("app/.git/objects/pack/p.pack", b"g" * 1500)], created_by="COPY . /app # buildkit"),
    Layer(whiteouts=["var/lib/apt/lists/deb_Packages"], created_by="RUN /bin/sh -c rm -rf /var/lib/apt/lists/* # buildkit"),
    Layer([Item("root/.cache/pip/http/a/b", b"w" * 2500), Item("usr/local/lib/python3/flask.py", b"f" * 700)], created_by="RUN /bin/sh -c pip install flask # buildkit"),
]
EMPTY = {5: ["ENV MODE=prod", 'CMD ["jq" "--version"]']}  # after the last layer


def sample_report(tmp_path: Path, fail_under: float | None = None) -> LayersReport:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_bytes(DOCKERFILE)
    _write_context(tmp_path)
    history, config = _history()
    saved = read_saved_image(saved_archive(LAYERS, config))
    request = LayersRequest(image="sample:1", dockerfile=dockerfile, fail_under=fail_under)
    report = LayersReport(image="sample:1", dockerfile=str(dockerfile), fail_under=fail_under)
    catalog = default_catalog()
    tree, index = read_dockerfile(request, report, catalog)
    fill_report(report, request, saved, history, tree, index, catalog)
    return report


def _write_context(root: Path) -> None:
    """The build context the COPY layer came from, so rules that read the context see it too."""
    for item in LAYERS[2].items:
        target = root / Path(item.path).relative_to("app")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(item.content or b"")


def _history():
    """Empty-layer entries after the last layer: history_and_config puts them before a layer."""
    history, config = history_and_config(LAYERS)
    trailing = [{"created_by": text, "empty_layer": True} for text in EMPTY[5]]
    config["history"] += trailing
    history = [{"CreatedBy": e["created_by"], "Size": 0} for e in reversed(trailing)] + history
    return history, config
