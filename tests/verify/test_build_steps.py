"""Reading BuildKit's plain progress output (no Docker needed)."""

from slimfile.verify.build import failure_tail, parse_steps

WARM_LOG = """#1 [internal] load build definition from Dockerfile
#1 DONE 0.0s
#3 [internal] load metadata for docker.io/library/python:3.11-slim
#9 [1/5] FROM docker.io/library/python:3.11-slim
#9 DONE 0.0s
#5 [internal] load build context
#6 [3/5] COPY req.txt .
#6 CACHED
#4 [2/5] WORKDIR /app
#4 CACHED
#7 [4/5] RUN pip install -r req.txt
#7 0.435 Collecting six==1.16.0
#7 DONE 0.6s
#8 [5/5] COPY app.py .
#8 DONE 0.0s
#10 exporting to image
#10 DONE 0.0s""".splitlines()

MULTI_STAGE_LOG = """#4 [build 1/4] FROM docker.io/library/golang:1.19
#5 [stage-1 1/2] FROM gcr.io/distroless/static-debian12
#6 [build 2/4] WORKDIR /src
#6 CACHED
#7 [build 3/4] ADD main.go .
#8 [build 4/4] RUN go build -o /out/app .
#9 [stage-1 2/2] COPY --from=build /out/app /app
#8 DONE 9.1s""".splitlines()


def test_steps_and_cache_hits_are_read_and_from_lines_left_out():
    steps = parse_steps(WARM_LOG)
    assert [(s.index, s.instruction, s.cached) for s in steps] == [
        (3, "COPY req.txt .", True),
        (2, "WORKDIR /app", True),
        (4, "RUN pip install -r req.txt", False),
        (5, "COPY app.py .", False),
    ]


def test_stage_names_are_kept():
    steps = parse_steps(MULTI_STAGE_LOG)
    assert [(s.stage, s.cached) for s in steps] == [("build", True), ("build", False), ("build", False), ("stage-1", False)]


def test_a_failure_keeps_the_end_of_the_log():
    lines = [f"line {i}" for i in range(100)]
    assert failure_tail(lines, 3) == ["line 97", "line 98", "line 99"]
