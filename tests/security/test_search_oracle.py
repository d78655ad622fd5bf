"""search_repository is not an oracle for redacted secrets (issue 10, item 3).

The attack: a pattern such as `=AKIA8|=\\[REDACTED:AWS` used to report the secret's line only when the guessed next
character was right (the pattern ran on the raw line first), which recovered an AWS key in 347 queries. Search now
runs over redacted text only. For every secret kind planted below, through the real server over stdio, the attacker
tries the right next character and 15 wrong ones after the part of the secret that is public (its prefix); every
answer must be the same, and no pattern made of secret characters may match at all.
"""

from __future__ import annotations

import re
import string

import pytest

from ..conftest import write_files
from .stdio import server_client, text_of

pytestmark = pytest.mark.anyio

# kind: (file, line holding the secret, the secret, how much of it an attacker already knows)
SECRETS = {
    "aws-access-key": ("aws.env", "AWS_ACCESS_KEY_ID={s}", "AKIAZ7Q3XW5N2K8P4R6T", "AKIA"),
    "aws-secret-key": ("aws.ini", "aws_secret_access_key = {s}", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq8Ws3Kp2d", ""),
    "github-classic": ("ci.yml", "token: {s}", "ghp_Zq8vN3xK5mP7rT2wY9bC4dF6hJ1kL0sQ8uE3", "ghp_"),
    "github-fine-grained": (
        "gh.env", "GH={s}", "github_pat_11ABCDEFG0123456789abc_Zq8vN3xK5mP7rT2wY9bC4dF6hJ1kL0sQ8uE3Zq8vN3xK5mP7rT2wY9bC4dF6",
        "github_pat_",
    ),
    "gitlab": ("gitlab.env", "GITLAB_TOKEN={s}", "glpat-Zq8vN3xK5mP7rT2wY9bC", "glpat-"),
    "slack": ("slack.env", "SLACK={s}", "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "xoxb-"),
    "stripe": ("pay.env", "STRIPE_KEY={s}", "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "sk_live_"),
    "jwt": ("auth.yml", "auth: {s}", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ."
            "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c", "eyJ"),
    "password": ("settings.py", 'password = "{s}"', "Xk9mQ2vL7pR4tWz", ""),
    "basic-auth": ("registry.yml", "url: https://deploy:{s}@registry.example.com/v2", "S3cr3tPassw0rd", ""),
    "npm": (".npmrc", "//registry.npmjs.org/:_authToken={s}", "npm_Zq8vN3xK5mP7rT2wY9bC4dF6hJ1kL0sQ8uE3", "npm_"),
    "private-key": ("deploy_key", "{s}", "MIIEowIBAAKCAQEA7bq3Zq8vN3xK5mP7rT2wY9bC4dF6hJ1kL0sQ8uE3", "MIIE"),
}
ALPHABET = string.ascii_letters + string.digits


def _repo(make_repo):
    files = {}
    for _kind, (path, line, secret, _known) in SECRETS.items():
        if path == "deploy_key":
            files[path] = f"-----BEGIN RSA PRIVATE KEY-----\n{secret}\n-----END RSA PRIVATE KEY-----\n"
        else:
            files[path] = f"# config\n{line.format(s=secret)}\nother = 1\n"
    root = make_repo({})
    write_files(root, files)
    return root


def _secret_lines(result) -> tuple[tuple[int, str], ...]:
    return tuple((m["line"], m["text"]) for m in result.structured_content["matches"] if "[REDACTED:" in m["text"])


def _guesses(secret: str, known: str) -> list[str]:
    right = secret[len(known)]
    wrong = [c for c in ALPHABET if c != right][:15]
    return [right, *wrong]


async def test_no_pattern_can_probe_a_secret_character(make_repo):
    root = _repo(make_repo)
    tries = 0
    async with server_client(root, extra=("--read-only",)) as client:
        for kind, (path, line, secret, known) in SECRETS.items():
            before = line.split("{s}")[0]  # the public text just before the secret, as in `=AKIA8`
            # The secret is redacted in what search shows.
            whole = await client.call_tool("search_repository", {"pattern": "REDACTED", "path_glob": path})
            assert not whole.is_error, text_of(whole)
            assert secret not in text_of(whole) and whole.structured_content["matches"], kind
            answers = set()
            for guess in _guesses(secret, known):
                probe = re.escape(before + known + guess)
                oracle = f"{probe}|{re.escape('[REDACTED:')}"
                found = await client.call_tool("search_repository", {"pattern": oracle, "path_glob": path})
                direct = await client.call_tool("search_repository", {"pattern": probe, "path_glob": path})
                tries += 2
                assert not found.is_error and not direct.is_error, kind
                # Other lines may match a short probe (an `o` in `other = 1`); whether the secret's own line
                # matches, and how it reads, must not depend on the guess.
                answers.add((_secret_lines(found), _secret_lines(direct)))
            assert len(answers) == 1, f"{kind}: the answer depends on the guessed character ({len(answers)} answers)"
            # No pattern made of secret characters beyond the public prefix matches anything.
            for length in (len(known) + 1, len(known) + 4, len(secret)):
                part = await client.call_tool("search_repository",
                                              {"pattern": re.escape(before + secret[:length]), "path_glob": path})
                tries += 1
                assert part.structured_content["matches"] == [], f"{kind}: {length} characters matched"
    assert tries == len(SECRETS) * (16 * 2 + 3)
