"""Run the final image as the non-root user its base already has.

Before::

    FROM gcr.io/distroless/static-debian12 AS release
    COPY --from=build /app /app
    CMD ["/app"]

After::

    FROM gcr.io/distroless/static-debian12 AS release
    COPY --from=build /app /app
    USER 65532:65532
    CMD ["/app"]

A process that runs as root in a container is root on anything the container can reach
(a mounted volume, a kernel bug). Distroless images ship a `nonroot` user and the node images
a `node` user for exactly this; the multi-stage split (SF901) keeps the original's user and
never switches silently, so this is its own, opt-in rule.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from slimfile.analysis.context import Context
from slimfile.diagnostics import Finding, Rule, Saving
from slimfile.restructure.moves import ItemIndex, insertion_point
from slimfile.restructure.stages import line
from slimfile.shell.data import load
from slimfile.syntax.edits import Edit, Fix, Safety
from slimfile.syntax.stages import Stage

NONROOT_RELEASE_USER = Rule(
    code="SF902",
    name="nonroot-release-user",
    summary="The final image runs as root although its base has a non-root user",
    fix_title="Add `USER <uid:gid of the base's non-root user>` before CMD/ENTRYPOINT",
    safety=Safety.UNSAFE,
    related=("hadolint DL3002",),
    doc="""
## What it does
Finds a final stage that never sets USER (so the container runs as root) on a base image
that ships a non-root user (`data/image_defaults.toml`: `nonroot` in the distroless images,
`node` in the node images), and adds `USER <its uid:gid>` before its CMD/ENTRYPOINT (numeric,
so that Kubernetes' `runAsNonRoot` can check it).

## Why is this bad?
Root in the container is root for every file the container can write, including mounted
volumes, and the first step of most container escapes. The base already provides a user
without privileges.

## Example
```dockerfile
FROM gcr.io/distroless/static-debian12
COPY --from=build /app /app
CMD ["/app"]
```

## Use instead
```dockerfile
FROM gcr.io/distroless/static-debian12
COPY --from=build /app /app
USER 65532:65532
CMD ["/app"]
```

## Fix safety
Always unsafe: the application may need root at run time (files it writes in folders owned
by root, ports below 1024 on older engines, a mounted socket). `slimfile verify --run` shows
whether it still runs the same. Stages built FROM another stage of the file are only
reported when that stage sets no USER either.
""",
)

RULES = (NONROOT_RELEASE_USER,)


@lru_cache(maxsize=1)
def _users() -> dict[str, list[str]]:
    return load("image_defaults")["nonroot_user"]


def check(ctx: Context) -> Iterator[Finding]:
    stage = ctx.stages.final
    if stage is None:
        return
    found = _base_user(ctx, stage)
    if found is None or _sets_user(stage):
        return
    user, uid = found
    node = stage.from_instruction
    start, end = node.keyword_source_span()
    yield Finding(
        NONROOT_RELEASE_USER,
        f"the image runs as root; its base {stage.image.text} has the user `{user}` ({uid})",
        start,
        end,
        _fix(ctx, stage, uid),
        Saving("security", "a container process without root privileges", kind="clarity"),
    )


def _base_user(ctx: Context, stage: Stage) -> tuple[str, str] | None:
    current: Stage | None = stage
    while current is not None and current.base_stage is not None:
        if _sets_user(current.base_stage):
            return None
        current = current.base_stage
    image = current.image if current is not None else None
    if image is None or image.has_variables or image.digest:
        return None
    found = _users().get(image.name) or _users().get(image.short_repository)
    return (found[0], found[1]) if found else None


def _sets_user(stage: Stage) -> bool:
    return any(node.name == "USER" for node in stage.instructions)


def _fix(ctx: Context, stage: Stage, user: str) -> Fix:
    runs = [node for node in stage.instructions if node.name in ("CMD", "ENTRYPOINT")]
    like = runs[0] if runs else stage.from_instruction
    text = line(ctx.dockerfile, like, "USER", user)
    if runs:
        index: ItemIndex = ctx.memo("restructure.items", lambda: ItemIndex(ctx.dockerfile))
        at = insertion_point(index.block(runs[0]))
        edit = Edit.insert(at, text)
    else:
        last = stage.instructions[-1] if stage.instructions else stage.from_instruction
        end = last.end
        prefix = b"" if ctx.dockerfile.source[:end].endswith((b"\n", b"\r")) else ctx.dockerfile.newline
        edit = Edit.insert(end, prefix + text.rstrip(b"\r\n") + (ctx.dockerfile.newline if prefix == b"" else b""))
    return Fix((edit,), Safety.UNSAFE, NONROOT_RELEASE_USER.fix_title, frozenset({"config:User"}))
