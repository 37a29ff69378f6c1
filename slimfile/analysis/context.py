"""The context every pass receives: the parsed file, the settings, and shared facts."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slimfile.syntax.nodes import Dockerfile, Instruction
from slimfile.syntax.stages import Stage, StageModel

if TYPE_CHECKING:
    from slimfile.analysis.build_context import BuildContext
    from slimfile.engine import Settings
    from slimfile.shell.model import RunShell


def _moved(model: "RunShell", instruction: Instruction, distance: int) -> "RunShell | None":
    from slimfile.shell.relocate import CannotRelocate, relocate

    try:
        return relocate(model, instruction, distance)
    except CannotRelocate:
        return None


class Context:
    """Facts are computed lazily and cached, so passes never re-derive them (hadolint's idea)."""

    def __init__(self, dockerfile: Dockerfile, settings: "Settings", carried: dict | None = None) -> None:
        self.dockerfile = dockerfile
        self.settings = settings
        self._cache: dict[Any, Any] = {}
        # shared by the rounds of one `fix`: a RUN whose bytes, position and shell did not
        # change since an earlier round has the same model (its spans are absolute offsets);
        # one that only moved gets the earlier model, moved (slimfile/shell/relocate.py);
        # the build context's files are carried the same way (see ``build_files``)
        self._carried = carried if carried is not None else {}

    @property
    def source(self) -> bytes:
        return self.dockerfile.source

    @cached_property
    def stages(self) -> StageModel:
        return self.dockerfile.stages

    @cached_property
    def build_context(self) -> Path | None:
        """Where COPY/ADD sources live: ``--context``, else the Dockerfile's own directory
        (Docker's default), else unknown (standard input)."""
        if self.settings.build_context:
            return Path(self.settings.build_context)
        path = self.dockerfile.path
        if path and path != "-" and Path(path).is_file():
            return Path(path).resolve().parent
        return None

    @property
    def build_files(self) -> "BuildContext | None":
        """The build context's files (``.dockerignore`` applied), or None when the context is
        unknown. One per ``fix``: the rounds share it, so each file is read at most once."""
        root = self.build_context
        if root is None or not root.is_dir():
            return None
        from slimfile.analysis.build_context import BuildContext

        dockerfile = self.dockerfile.path
        key = ("build-context", str(root), dockerfile)
        if key not in self._carried:
            path = Path(dockerfile).resolve() if dockerfile and dockerfile != "-" else None
            self._carried[key] = BuildContext(root, path)
        return self._carried[key]

    def stage_of(self, instruction: Instruction) -> Stage | None:
        return self.stages.stage_of(instruction)

    def shell(self, instruction: Instruction) -> "RunShell":
        """The shell model of a RUN (a ShellScript, or an OpaqueRun saying why not), built once
        per round. ``instruction`` may be the RUN inside an ONBUILD."""
        from slimfile.shell.analyze import analyze_run
        from slimfile.shell.interpreter import run_shells

        shells = self.memo("shell.run_shells", lambda: run_shells(self.dockerfile))
        return self.memo(("shell.run", id(instruction)), lambda: self._shell_model(instruction, shells, analyze_run))

    def _shell_model(self, instruction: Instruction, shells, analyze_run) -> "RunShell":
        source = self.dockerfile.source
        anywhere = (source[instruction.start : instruction.end], instruction.keyword, shells.get(id(instruction)))
        known = self._carried.get(anywhere)
        if known is not None:
            start, model = known
            if start == instruction.start:
                return model
            moved = _moved(model, instruction, instruction.start - start)
            if moved is not None:
                self._carried[anywhere] = (instruction.start, moved)
                return moved
        model = analyze_run(self.dockerfile, instruction, shells)
        self._carried[anywhere] = (instruction.start, model)
        return model

    def memo(self, key: Any, compute):
        """Cache any derived fact under ``key`` for the other passes of this round."""
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def option(self, name: str, default: Any = None) -> Any:
        return self.settings.options.get(name, default)
