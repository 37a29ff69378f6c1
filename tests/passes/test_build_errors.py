"""SF001: what the builder rejects although the file parses (fixture pairs, which show that
nothing is rewritten, are in fixtures/passes/SF001-build-error/)."""

from __future__ import annotations

import pytest

from slimfile.engine import Settings, check_source, fix_source
from tests.conftest import corpus_sample

ONLY = Settings(select=frozenset({"SF001"}))
ONE_COPY = "COPY requires at least two arguments, but only one was provided. Destination could not be determined"


def messages(text: str) -> list[tuple[int, str]]:
    return [(f.line, f.message) for f in check_source(text.encode(), "Dockerfile", ONLY)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("FROM debian:12-slim\nCOPPY . /app\n", [(2, "`COPPY` is not an instruction (did you mean COPY?): the build stops here (\"unknown instruction\")")]),
        ("FROM debian:12-slim\nrunn echo hi\n", [(2, "`runn` is not an instruction (did you mean RUN?): the build stops here (\"unknown instruction\")")]),
        ("FROM debian:12-slim\nAAAA b\n", [(2, "`AAAA` is not an instruction: the build stops here (\"unknown instruction\")")]),
        # one mistake, one finding: not also "no FROM" and "RUN before the first FROM"
        ("FORM debian:12-slim\nRUN echo hi\n", [(1, "`FORM` is not an instruction (did you mean FROM?): the build stops here (\"unknown instruction\")")]),
        ("ENV A=1\nFROM debian:12-slim\n", [(1, "`ENV` comes before the first FROM, where only ARG may: the build stops here (\"no build stage in current context\")")]),
        ("# a comment\nARG A=1\n", [(2, "the file has no FROM: there is no stage to build")]),
        ("ARG A=1\nRUN echo hi\n", [(1, "the file has no FROM: there is no stage to build")]),
        ("", [(1, "the file has no instructions: there is nothing to build (buildkit: \"file with no instructions\")")]),
        ("# syntax=docker/dockerfile:1\n# only comments\n\n", [(1, "the file has no instructions: there is nothing to build (buildkit: \"file with no instructions\")")]),
        ("FROM debian:12-slim\nONBUILD ONBUILD RUN x\n", [(2, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed: the build stops here")]),
        ("FROM debian:12-slim\nONBUILD FROM x\n", [(2, "FROM isn't allowed as an ONBUILD trigger: the build stops here")]),
        # buildkit checks an ONBUILD trigger's keyword here, the rest in each build FROM this image
        ("FROM debian:12-slim\nONBUILD COPPY a b\n", [(2, "ONBUILD `COPPY` is not an instruction (did you mean COPY?): every build FROM this image stops there")]),
        ("FROM debian:12-slim\nONBUILD COPY a\n", [(2, f"ONBUILD {ONE_COPY}: every build FROM this image stops there")]),
        ("FROM debian:12-slim\nCMD [\"a\", 1]\n", [(2, "CMD: when using JSON array syntax, arrays must be comprised of strings only: the build stops here")]),
        ("FROM debian:12-slim\nENV A\n", [(2, "ENV must have two arguments: the build stops here")]),
        # the number of arguments, as Docker 20.10's builder words it (checked on the zoo's engine)
        ("FROM debian:12-slim\nENV\n", [(2, "ENV requires at least one argument: the build stops here")]),
        ("FROM debian:12-slim\nLABEL\n", [(2, "LABEL requires at least one argument: the build stops here")]),
        ("FROM debian:12-slim\nUSER\n", [(2, "USER requires exactly one argument: the build stops here")]),
        ("FROM debian:12-slim\nCOPY --from=build /app\n", [(2, f"{ONE_COPY}: the build stops here")]),
        ("FROM debian:12-slim\nCOPY [\"a\"]\n", [(2, f"{ONE_COPY}: the build stops here")]),
        ("FROM debian:12-slim AS a b\n", [(1, "FROM requires either one or three arguments: the build stops here")]),
        ("FROM debian:12-slim\nFROM\n", [(2, "FROM requires either one or three arguments: the build stops here")]),
        ("FROM debian:12-slim\nHEALTHCHECK CMD\n", [(2, "Missing command after HEALTHCHECK CMD: the build stops here")]),
        ("FROM debian:12-slim\nHEALTHCHECK CONNECT TCP 7000\n", [(2, 'Unknown type "CONNECT" in HEALTHCHECK (try CMD): the build stops here')]),
        ("FROM debian:12-slim\nHEALTHCHECK NONE now\n", [(2, "HEALTHCHECK NONE takes no arguments: the build stops here")]),
        ("FROM debian:12-slim\nSHELL /bin/bash -c\n", [(2, "SHELL requires the arguments to be in JSON form: the build stops here")]),
        # flags, in Docker 20.10's words (checked on the zoo's engine), with the closest flag
        ("FROM debian:12-slim\nCOPY --form=build /app /app\n", [(2, "COPY: Unknown flag: form (did you mean --from?): the build stops here")]),
        ("FROM --plaform=linux/amd64 debian:12-slim\n", [(1, "FROM: Unknown flag: plaform (did you mean --platform?): the build stops here")]),
        ("FROM debian:12-slim\nRUN --foo true\n", [(2, "RUN: Unknown flag: foo: the build stops here")]),
        ("FROM debian:12-slim\nHEALTHCHECK --intervl=5s CMD true\n", [(2, "HEALTHCHECK: Unknown flag: intervl (did you mean --interval?): the build stops here")]),
        ("FROM debian:12-slim\nWORKDIR --x /app\n", [(2, "WORKDIR: Unknown flag: x: the build stops here")]),
        ("FROM debian:12-slim\nEXPOSE --x 80\n", [(2, "EXPOSE: Unknown flag: x: the build stops here")]),
        ("FROM debian:12-slim\nONBUILD --x RUN true\n", [(2, "ONBUILD: Unknown flag: x: the build stops here")]),
        ("FROM debian:12-slim\nCOPY --chown=1 --chown=2 a /a\n", [(2, "COPY: Duplicate flag specified: chown: the build stops here")]),
        ("FROM debian:12-slim\nCOPY --chmod a /a\n", [(2, "COPY: Missing a value on flag: chmod: the build stops here")]),
        ("FROM debian:12-slim\nONBUILD COPY --frm=a b c\n", [(2, "ONBUILD COPY: Unknown flag: frm (did you mean --from?): every build FROM this image stops there")]),
    ],
)
def test_what_the_builder_rejects_is_reported_at_its_line(text: str, expected: list[tuple[int, str]]):
    assert messages(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "ARG BASE=debian:12-slim\nFROM ${BASE}\nRUN echo hi\n",
        "from debian:12-slim\nrun echo hi\nonbuild run make\n",
        "FROM debian:12-slim AS a\nFROM a\nMAINTAINER someone\nSTOPSIGNAL SIGTERM\nHEALTHCHECK NONE\nSHELL [\"/bin/bash\", \"-c\"]\n",
        "FROM debian:12-slim\nRUN echo a \\\n\\\n  && echo b\n",
        "FROM debian:12-slim\nWORKDIR /my app\nUSER app staff\nCOPY <<EOF /etc/motd\nhi\nEOF\nCMD\n",
        "FROM debian:12-slim\nLABEL version 1.0\nENV A 1\nONBUILD RUN make\n",
        # buildkit only warns about this one (its DuplicateStageName check); Docker 20.10 builds it
        "FROM debian:12-slim AS build\nFROM debian:12-slim AS Build\n",
        "FROM debian:12-slim\nHEALTHCHECK NONE\nHEALTHCHECK --interval=5s cmd\tcurl -f http://localhost/\n",
        # flags buildkit never reads (Docker 20.10 builds these), flags that may repeat, `--`,
        # and flags of newer frontends (`# syntax=`) and their labs channel
        "FROM debian:12-slim\nSTOPSIGNAL --x SIGTERM\nARG --x A=1\nHEALTHCHECK --x NONE\nRUN -- true\n",
        "FROM debian:12-slim\nRUN --mount=type=tmpfs,target=/t --mount=type=cache,target=/u --network=none true\n",
        "FROM --platform=$BUILDPLATFORM debian:12-slim\nCOPY --link --parents --exclude=a --exclude=b --chmod=755 a /b\n",
        "FROM debian:12-slim\nADD --keep-git-dir=true --unpack --checksum=sha256:0 --link a /b\nRUN --security=insecure --device=x true\n",
        "FROM debian:12-slim\nHEALTHCHECK --timeout=3s --start-period=1s --start-interval=1s --retries=3 CMD true\n",
    ],
)
def test_valid_files_have_no_build_error(text: str):
    assert messages(text) == []


def test_no_file_of_the_corpus_sample_is_a_build_error():
    """The real-world files all build (or fail for other reasons than these)."""
    for path in corpus_sample():
        assert [f.message for f in check_source(path.read_bytes(), str(path), ONLY)] == [], path


def test_the_rest_of_the_file_is_still_checked_and_fixed_around_the_rejected_line():
    text = b"FROM debian:12-slim\nCOPPY . /app\nRUN apt-get update\nRUN apt-get install -y curl\n"
    result = fix_source(text, "Dockerfile", Settings())
    assert b"COPPY . /app\nRUN apt-get update \\\n    && apt-get install -y curl" in result.output
    assert [f.line for f in result.remaining if f.rule.code == "SF001"] == [2]
