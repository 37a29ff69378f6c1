"""``slimfile layers``: where an image's bytes go, layer by layer, and which rule gets them back.

Reads an image's layers (``docker save``, streamed), matches each layer to the Dockerfile line
that made it, measures waste from the layers' contents (``data/waste.toml``) and names the
rule whose fix removes it, with the fix's estimate. Entry point: :func:`analyze`; renderers in
:mod:`slimfile.layers.render_text`, ``render_markdown`` and ``render_html``.
"""

from slimfile.layers.report import EXIT_BELOW_THRESHOLD, EXIT_ERROR, EXIT_OK, LayersReport
from slimfile.layers.session import LayersRequest, analyze

__all__ = ["EXIT_BELOW_THRESHOLD", "EXIT_ERROR", "EXIT_OK", "LayersReport", "LayersRequest", "analyze"]
