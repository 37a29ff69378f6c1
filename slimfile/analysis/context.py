"""The context every pass receives: the parsed file, the settings, and shared facts."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slimfile.memo import cached_property
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

    def __init__(
        self,
        dockerfile: Dockerfile,
        settings: "Settings",
        carried: dict | None = None,
        created: Mapping[str, bytes] | None = None,
    ) -> None:
        self.dockerfile = dockerfile
        self.settings = settings
        # files the fixes of earlier rounds create (path as reported -> content): passes see
        # them as if they were written (a proposed .dockerignore applies to the build context)
        self.created: Mapping[str, bytes] = created or {}
        self._cache: dict[Any, Any] = {}
        self._shells: dict[int, RunShell] = {}  # by id of the RUN instruction (see ``shell``)
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
        if "build-files" not in self._cache:  # asked once per RUN by some passes: one stat per round
            self._cache["build-files"] = self._build_files()
        return self._cache["build-files"]

    def _build_files(self) -> "BuildContext | None":
        root = self.build_context
        if root is None or not root.is_dir():
            return None
        dockerfile = self.dockerfile.path
        proposed = self._proposed_ignore(root)
        key = ("build-context", str(root), dockerfile, proposed)
        if key not in self._carried:
            self._carried[key] = self._read_build_context(root, proposed)
        found = self._carried[key]
        if isinstance(found, str):
            self._cache["build-files-unread"] = found
            return None
        return found

    def _read_build_context(self, root: Path, proposed: tuple[Path, str] | None) -> "BuildContext | str":
        """The context, or why it stays unknown (its ignore file is not read)."""
        from slimfile.analysis.build_context import BuildContext, IgnoreFileUnread

        try:
            return BuildContext(root, self.dockerfile_path, proposed)
        except IgnoreFileUnread as exc:
            return str(exc)

    @property
    def context_unread(self) -> str:
        """For the reasons passes give when :attr:`build_files` is None and they refuse or
        assume: "the build context was not read", and why when the directory was there."""
        return "the build context was not read" + self.context_unread_why

    @property
    def context_unread_why(self) -> str:
        """`` (why)`` when :attr:`build_files` is None although the context directory is there
        (its ignore file is not read), else nothing."""
        why = self._cache.get("build-files-unread") if self.build_files is None else None
        return f" ({why})" if why else ""

    @cached_property
    def dockerfile_path(self) -> Path | None:
        """The Dockerfile's absolute path, or None for standard input."""
        path = self.dockerfile.path
        return Path(path).resolve() if path and path != "-" else None

    def _proposed_ignore(self, root: Path) -> tuple[Path, str] | None:
        """A created file that is this build's ignore file (``.dockerignore`` of the context,
        or the Dockerfile's own ``<name>.dockerignore``), as (absolute path, text)."""
        if not self.created:
            return None
        from slimfile.analysis.build_context import dockerignore_candidates

        candidates = set(dockerignore_candidates(root.resolve(), self.dockerfile_path))
        for path, content in self.created.items():
            absolute = Path(path).resolve()
            if absolute in candidates:
                return absolute, content.decode("utf-8", "replace")
        return None

    def context_inventory(self):
        """Every path of the build context directory, sent or not, walked once per ``fix``
        (see :class:`~slimfile.analysis.build_context.Inventory`); None without a context."""
        root = self.build_context
        if root is None or not root.is_dir():
            return None
        from slimfile.analysis import build_context
        from slimfile.shell.data import load

        unentered = frozenset(load("context_files")["unentered"])
        limit = build_context.MAX_ENTRIES
        return self.fix_memo(("context-inventory", str(root)), lambda: build_context.walk_inventory(root, unentered, limit))

    def stage_of(self, instruction: Instruction) -> Stage | None:
        return self.stages.stage_of(instruction)

    def shell(self, instruction: Instruction) -> "RunShell":
        """The shell model of a RUN (a ShellScript, or an OpaqueRun saying why not), built once
        per round. ``instruction`` may be the RUN inside an ONBUILD."""
        known = self._shells.get(id(instruction))
        if known is not None:  # asked by many passes for every RUN: one dict look-up
            return known
        from slimfile.shell.analyze import analyze_run
        from slimfile.shell.interpreter import run_shells

        shells = self.memo("shell.run_shells", lambda: run_shells(self.dockerfile))
        model = self._shells[id(instruction)] = self._shell_model(instruction, shells, analyze_run)
        return model

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

    def release(self) -> None:
        """Drop this round's derived facts. They refer back to the context (a stage's steps
        hold it), so a round's whole model is one web of cycles that only the cycle collector
        could free; released, it goes as soon as the round's findings are made."""
        self._cache.clear()
        self._shells.clear()

    def fix_memo(self, key: Any, compute):
        """Cache a fact for every round of this ``fix``: only facts that no fix can change
        (what the build context directory holds, the content of its files)."""
        if key not in self._carried:
            self._carried[key] = compute()
        return self._carried[key]

    def memo(self, key: Any, compute):
        """Cache any derived fact under ``key`` for the other passes of this round."""
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def memoized(self, key: Any) -> bool:
        """The fact under ``key`` is cached already this round."""
        return key in self._cache

    def option(self, name: str, default: Any = None) -> Any:
        return self.settings.options.get(name, default)
