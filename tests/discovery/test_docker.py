"""Dockerfile detector: stages, base images, final-image config, continuations, heredocs, bad input."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator_kit.discovery.base import DetectContext
from orchestrator_kit.discovery.docker import detect_dockerfile
from orchestrator_kit.repo import FileText, Workspace

from .conftest import scanner

MULTI_STAGE = """\
# syntax=docker/dockerfile:1.7
ARG PYTHON=3.12
ARG DEBIAN_RELEASE
FROM --platform=$BUILDPLATFORM python:${PYTHON}-slim AS Builder
WORKDIR /src
RUN <<EOF
FROM evil:latest
# this is script text, not a comment
set -e
EOF
RUN pip install \\
    # a comment line inside a continuation
    --no-cache-dir \\

    -r requirements.txt
EXPOSE 9000
USER builder

FROM builder AS test
RUN pytest

FROM gcr.io/distroless/python3-debian12@sha256:0123abcd AS runtime
COPY --from=builder /src /app
COPY --from=nginx:1.27 /etc/nginx/mime.types /etc/
EXPOSE 8000 8443/tcp
USER 10001:10001
ENTRYPOINT ["python", "-m", "app"]
CMD ["--port", "8000"]
"""

scan = scanner("docker")


def only_item(inventory):
    assert len(inventory.infrastructure) == 1
    return inventory.infrastructure[0]


def test_multi_stage_dockerfile(make_repo):
    inventory = scan(make_repo, {"Dockerfile": MULTI_STAGE})
    item = only_item(inventory)
    assert item.kind == "dockerfile"
    assert item.name == item.path == "Dockerfile"
    attrs = item.attributes
    assert attrs["stages"] == [
        "Builder: python:${PYTHON}-slim",
        "test: builder",
        "runtime: gcr.io/distroless/python3-debian12@sha256:0123abcd",
    ]
    # `FROM builder` names the earlier stage "Builder" (names are case-insensitive): not a base image.
    assert attrs["base_images"] == ["python:${PYTHON}-slim", "gcr.io/distroless/python3-debian12@sha256:0123abcd"]
    assert attrs["base_images_resolved"] == ["python:3.12-slim", "gcr.io/distroless/python3-debian12@sha256:0123abcd"]
    # The FROM inside the heredoc (line 7) is script text.
    assert attrs["from_lines"] == ["4", "19", "22"]
    assert attrs["final_stage"] == "runtime"
    # The runtime stage is built on an external image: nothing inherited from the builder stage.
    assert attrs["exposed_ports"] == ["8000", "8443/tcp"]
    assert attrs["user"] == "10001:10001"
    assert attrs["runs_as_root"] == "no"
    assert attrs["entrypoint"] == "python -m app"
    assert attrs["cmd"] == "--port 8000"
    assert attrs["args_before_from"] == ["PYTHON=3.12", "DEBIAN_RELEASE"]
    assert attrs["copy_from_images"] == ["nginx:1.27"]
    assert attrs["syntax"] == "docker/dockerfile:1.7"
    assert attrs["healthcheck"] == "no"
    assert (item.evidence.line_start, item.evidence.line_end) == (1, 28)
    assert inventory.diagnostics == []


@pytest.mark.parametrize(
    ("path", "found"),
    [
        ("Dockerfile", True),
        ("Containerfile", True),
        ("dockerfile", True),
        ("Dockerfile.dev", True),
        ("docker/Dockerfile.prod", True),
        ("services/api.Dockerfile", True),
        ("build/worker.dockerfile", True),
        ("Dockerfile.dockerignore", False),
        ("internal/dockerfile.go", False),
        ("docs/Dockerfile.md", False),
        ("node_modules/pkg/Dockerfile", False),
        ("vendor/github.com/x/Dockerfile", False),
    ],
)
def test_which_files_are_dockerfiles(make_repo, path, found):
    inventory = scan(make_repo, {path: "FROM alpine:3.20\n"})
    assert [i.path for i in inventory.infrastructure] == ([path] if found else [])


def test_escape_directive_backtick(make_repo):
    # Windows Dockerfiles switch the escape character so that C:\ paths are not continuations.
    text = (
        "# escape=`\n"
        "FROM mcr.microsoft.com/windows/servercore:ltsc2022\n"
        "RUN dir C:\\ `\n"
        "    && echo done\n"
        "COPY app C:\\app\\\n"
        "FROM mcr.microsoft.com/windows/nanoserver:ltsc2022 AS final\n"
        "USER ContainerUser\n"
    )
    item = only_item(scan(make_repo, {"Dockerfile": text}))
    assert item.attributes["from_lines"] == ["2", "6"]
    assert item.attributes["stages"] == [
        "0: mcr.microsoft.com/windows/servercore:ltsc2022",
        "final: mcr.microsoft.com/windows/nanoserver:ltsc2022",
    ]
    assert item.attributes["user"] == "ContainerUser"


def test_backslash_continuation_can_swallow_a_from(make_repo):
    # Without an escape directive a trailing backslash joins the next line, even a FROM line.
    text = "FROM alpine AS a\nRUN echo hi \\\nFROM debian\n"
    item = only_item(scan(make_repo, {"Dockerfile": text}))
    assert item.attributes["from_lines"] == ["1"]


@pytest.mark.parametrize(
    ("body", "user", "root"),
    [
        ("FROM alpine\nRUN id\n", None, "yes"),
        ("FROM alpine\nUSER root\n", "root", "yes"),
        ("FROM alpine\nUSER 0:0\n", "0:0", "yes"),
        ("FROM alpine\nUSER app\nUSER root\n", "root", "yes"),
        ("FROM alpine\nUSER 1000:1000\n", "1000:1000", "no"),
        ("FROM alpine AS base\nUSER app\nFROM base\nRUN true\n", "app", "no"),
        ("FROM alpine AS build\nUSER app\nFROM debian\nRUN true\n", None, "yes"),
        ("from alpine as base\nuser nobody\nfrom BASE\n", "nobody", "no"),
    ],
)
def test_user_and_runs_as_root(make_repo, body, user, root):
    item = only_item(scan(make_repo, {"Dockerfile": body}))
    assert item.attributes.get("user") == user
    assert item.attributes["runs_as_root"] == root


def test_entrypoint_clears_inherited_cmd(make_repo):
    text = (
        'FROM alpine AS base\nCMD ["serve"]\nEXPOSE 80\nHEALTHCHECK CMD wget -q localhost\n'
        'FROM base AS final\nENTRYPOINT ["/bin/app"]\n'
    )
    attrs = only_item(scan(make_repo, {"Dockerfile": text})).attributes
    assert attrs["entrypoint"] == "/bin/app"
    assert "cmd" not in attrs
    assert attrs["exposed_ports"] == ["80"]
    assert attrs["healthcheck"] == "yes"


def test_cmd_in_same_stage_survives_entrypoint(make_repo):
    text = "FROM alpine\nCMD echo $HOME\nENTRYPOINT [\"tini\", \"--\"]\nHEALTHCHECK NONE\n"
    attrs = only_item(scan(make_repo, {"Dockerfile": text})).attributes
    assert attrs["cmd"] == "echo $HOME"
    assert attrs["entrypoint"] == "tini --"
    assert attrs["healthcheck"] == "no"


def test_heredoc_variants(make_repo):
    text = (
        "FROM alpine\n"                      # 1
        "RUN <<-EOT bash\n"                  # 2
        "\tFROM not-a-stage\n"               # 3
        "\tEOT\n"                            # 4  tab-indented terminator closes a <<- heredoc
        'COPY <<"CONF" /etc/app.conf\n'      # 5
        "USER inside-heredoc\n"              # 6
        "CONF\n"                             # 7
        "RUN <<A <<B\n"                      # 8
        "echo a\n"                           # 9
        "A\n"                                # 10
        "echo b\n"                           # 11
        "B\n"                                # 12
        "RUN cat <<<'here-string is not a heredoc'\n"  # 13
        "FROM alpine AS final\n"             # 14
        "USER app\n"                         # 15
    )
    inventory = scan(make_repo, {"Dockerfile": text})
    attrs = only_item(inventory).attributes
    assert attrs["from_lines"] == ["1", "14"]
    assert attrs["user"] == "app"
    assert inventory.diagnostics == []


def test_variable_substitution_and_stage_from_arg(make_repo):
    text = (
        "ARG BASE=builder\nARG NODE_VERSION\n"
        "FROM node:${NODE_VERSION:-20}-alpine AS builder\n"
        "FROM $BASE AS final\n"
        "FROM scratch AS export\n"
    )
    attrs = only_item(scan(make_repo, {"Dockerfile": text})).attributes
    assert attrs["base_images"] == ["node:${NODE_VERSION:-20}-alpine"]
    assert attrs["base_images_resolved"] == ["node:20-alpine"]
    assert attrs["stages"] == ["builder: node:${NODE_VERSION:-20}-alpine", "final: $BASE", "export: scratch"]


def test_secrets_in_commands_are_redacted(make_repo):
    token = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    text = f'FROM alpine\nCMD ["sh", "-c", "curl -H \'Authorization: Bearer {token}\' https://x"]\n'
    attrs = only_item(scan(make_repo, {"Dockerfile": text})).attributes
    assert token not in attrs["cmd"]
    assert "REDACTED" in attrs["cmd"]


def test_invalid_json_exec_form_is_shell_form(make_repo):
    attrs = only_item(scan(make_repo, {"Dockerfile": 'FROM alpine\nCMD ["broken", \n'})).attributes
    assert attrs["cmd"] == '["broken",'


def test_crlf_and_latin1(make_repo):
    data = b"FROM alpine\r\n# caf\xe9\r\nUSER app\r\n"
    inventory = scan(make_repo, {"Dockerfile": data})
    item = only_item(inventory)
    assert item.attributes["user"] == "app"
    assert item.evidence.line_end == 3


@pytest.mark.parametrize(
    ("text", "reason", "line"),
    [
        ("", "no FROM instruction", 1),
        ("# only a comment\n", "no FROM instruction", 1),
        ("RUN echo hi\nFROM alpine\n", "RUN before the first FROM", 1),
        ("FROM alpine\nFROBNICATE x\n", "unknown Dockerfile instruction 'FROBNICATE'", 2),
        ("FROM alpine\nFROM --platform=linux/amd64\n", "FROM without an image", 2),
        ("FROM alpine\nRUN <<EOF\necho never closed\n", "heredoc <<EOF opened on line 2 is never closed", 2),
        ("FROM a AS x\nFROM b AS X\n", "duplicate stage name 'X'", 2),
        ("FROM alpine stray words\n", "unexpected words after the image", 1),
        ("# escape=!\nFROM alpine\n", "escape directive '!'", 1),
    ],
)
def test_bad_dockerfiles(make_repo, text, reason, line):
    inventory = scan(make_repo, {"Dockerfile": text})
    assert any(reason in d.reason and d.line == line for d in inventory.diagnostics), inventory.diagnostics


def test_lone_continuation_and_huge_file(make_repo):
    runs = "".join(f"RUN echo {i}\n" for i in range(5000))
    inventory = scan(make_repo, {"Dockerfile": "FROM alpine\n\\\n" + runs + "USER app\n"})
    item = only_item(inventory)
    assert item.attributes["user"] == "app"
    assert item.evidence.line_end == 5003


def run_direct(root, detect, path, text):
    """Call a detector directly (not through the runner), so that any exception fails the test."""
    ctx = DetectContext(Workspace(root), [path])
    detect(ctx, FileText(path=path, text=text, encoding="utf-8", size=len(text)))
    return ctx.findings

FRAGMENTS = ["FROM alpine AS a", "FROM a", "FROM", "ARG X=1", "USER app", "RUN <<EOF", "RUN <<-A <<B", "EOF", "A",
             "\tB", "CMD [\"a\"", "ENTRYPOINT [1, 2]", "EXPOSE 80", "COPY --from=x / /", "# escape=`", "\\",
             "`", "  ", "# c", "HEALTHCHECK", "FROM $X AS", "ONBUILD RUN x", "FROM --platform=x"]


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)), max_size=25))
def test_any_text_never_raises(tmp_path, lines):
    run_direct(tmp_path, detect_dockerfile, "Dockerfile", "\n".join(lines))
