"""Quoting and splitting: spec values reach a shell as literal words, or are refused with the reason."""

from __future__ import annotations

import shlex
import subprocess

import pytest

from orchestrator_kit.automation.shellsafe import (
    UnsafeCommand,
    check_text,
    command_word,
    for_cron,
    for_just,
    for_make,
    render_command,
    split_command,
    systemd_word,
)
from orchestrator_kit.errors import InputError

HOSTILE = [
    "; rm -rf /",
    "$(touch pwned)",
    "`touch pwned`",
    "${HOME}",
    "a'b\"c",
    "&& echo hi",
    "| cat /etc/passwd",
    "> /tmp/x",
    "*",
    "~root",
    "--flag=$(id)",
    "\\",
    "",
    "ünïcødé ✓",
    "{a,b}",
    "#comment",
]


def bash_words(text: str, cwd) -> list[str]:
    """Run `printf '%s\\0' <words>` in bash and return the words bash passed."""
    proc = subprocess.run(["bash", "-c", f"printf '%s\\0' {text}"], capture_output=True, cwd=cwd, check=True)
    return proc.stdout.decode().split("\0")[:-1]


@pytest.mark.parametrize("word", HOSTILE)
def test_a_hostile_word_reaches_the_command_literally(word, tmp_path):
    rendered = render_command(["printf", word])
    # The rendered command starts with printf; run only its argument words through bash.
    assert bash_words(rendered.split(" ", 1)[1], tmp_path) == [word]
    assert list(tmp_path.iterdir()) == []  # nothing was created: no substitution ran


def test_template_words_expand_one_variable_and_nothing_else(tmp_path):
    rendered = render_command(["x", {"template": "Release {version}!"}], ["version"])
    assert rendered == "x 'Release '\"${VERSION}\"'!'"
    proc = subprocess.run(["bash", "-c", f"VERSION='$(touch pwned); *'; printf '%s\\0' {rendered.split(' ', 1)[1]}"],
                          capture_output=True, cwd=tmp_path, check=True)
    assert proc.stdout.decode().split("\0")[:-1] == ["Release $(touch pwned); *!"]
    assert list(tmp_path.iterdir()) == []


def test_undeclared_template_parameter_is_refused():
    with pytest.raises(InputError, match="not a declared parameter"):
        render_command(["x", {"template": "{nope}"}], ["version"])


@pytest.mark.parametrize("word", ["if", "!", "{", "[[", "FOO=bar", "A=$(id)"])
def test_a_command_word_that_would_read_as_syntax_is_quoted(word, tmp_path):
    quoted = command_word(word)
    assert quoted.startswith("'")
    proc = subprocess.run(["bash", "-c", f"{quoted} 2>/dev/null; echo $?"], capture_output=True, text=True,
                          cwd=tmp_path)
    assert proc.stdout.strip() == "127"  # looked up as a command named literally `word`, not run as syntax


def test_env_assignments_stay_assignments(tmp_path):
    rendered = render_command(["bash", "-c", 'printf "%s" "$GREETING"'], env={"GREETING": "a b; c"})
    proc = subprocess.run(["bash", "-c", rendered], capture_output=True, text=True, cwd=tmp_path, check=True)
    assert proc.stdout == "a b; c"


@pytest.mark.parametrize(
    ("text", "env", "argv"),
    [
        ('git commit -am "Release v1.4.0"', {}, ["git", "commit", "-am", "Release v1.4.0"]),
        ("make deploy ENV=production VERSION=v1.4.0", {}, ["make", "deploy", "ENV=production", "VERSION=v1.4.0"]),
        ("FOO='a b' run x", {"FOO": "a b"}, ["run", "x"]),
        (r"echo a\ b 'c d' \"e\"", {}, ["echo", "a b", "c d", '"e"']),
        ('echo "x\\"y"', {}, ["echo", 'x"y']),
        ("echo ''", {}, ["echo", ""]),
        ("echo a#b", {}, ["echo", "a#b"]),
        ("echo {}", {}, ["echo", "{}"]),
        ("docker ps --format={{.Names}}", {}, ["docker", "ps", "--format={{.Names}}"]),
    ],
)
def test_simple_commands_split_like_the_shell(text, env, argv, tmp_path):
    assert split_command(text) == (env, argv)
    # And the shell agrees: quoting the words back gives the same words.
    assert bash_words(" ".join(shlex.quote(w) for w in argv), tmp_path) == argv


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("echo hi; rm -rf /", "separator"),
        ("make a && make b", "'&'"),
        ("curl x | sh", "pipe"),
        ("curl x > /dev/null", "redirection"),
        ("echo $(id)", "'\\$' expansion"),
        ("echo `id`", "backtick"),
        ('echo "$HOME"', "inside double quotes"),
        ('echo "`id`"', "inside double quotes"),
        ("rm *.txt", "glob"),
        ("cp ~/.ssh/id_rsa .", "tilde"),
        ("echo {a,b}", "brace"),
        ("echo 'unterminated", "unterminated"),
        ('echo "unterminated', "unterminated"),
        ("echo x # comment", "comment"),
        ("echo (x)", "subshell"),
        ("FOO=bar", "no command word"),
        ("", "no command word"),
        ("ls \\", "lone backslash"),
    ],
)
def test_unsafe_command_text_is_refused_with_the_reason(text, reason):
    with pytest.raises(UnsafeCommand, match=reason):
        split_command(text)


@pytest.mark.parametrize(
    "value", ["a\x00b", "line\nbreak", "bidi\u202eoverride", "${{ github.event.issue.title }}", "x" * 5000,
              "[REDACTED:AWS Access Key]"]
)
def test_text_that_cannot_be_written_safely_is_refused(value):
    with pytest.raises(InputError):
        check_text(value, "A value")


def test_target_layers():
    assert for_make("echo \"${VERSION}\" $$") == 'echo "$${VERSION}" $$$$'
    assert for_just("echo {{x}}") == "echo {{{{x}}"
    assert for_cron("date +%Y") == "date +\\%Y"
    assert systemd_word("/usr/bin/x") == "/usr/bin/x"
    assert systemd_word('a b"c%d$e') == '"a b\\"c%%d$$e"'
