"""Redaction on the corpus (issue 10, item 5): the figures the README quotes, and no secret through any tool.

The corpus (redaction_corpus.yaml) holds at least 60 secret shapes and 60 look-alikes that must stay readable, plus
a held-out part written after the rules were tuned. `corpus.measure` computes recall and precision (formulas in
tests/security/corpus.py); this test fails when they drop below the floors below. Then every sample is planted in a
real repository and read back through the real server over stdio with read_file and search_repository: no secret
value may come back, every look-alike must come back as written, and `.git/` is not readable at all.
"""

from __future__ import annotations

import re

import pytest

from ..conftest import git, write_files
from .corpus import leaks, load, measure
from .stdio import server_client, text_of

# Floors: the tuned lists miss nothing today (72/72, 64/64), the held-out part neither (15/15, 15/15) once the
# classes it revealed were fixed; one miss on either side is tolerated before this fails.
FLOORS = {"": (0.98, 0.98), "heldout_": (0.93, 0.93)}


@pytest.mark.parametrize("part", ["", "heldout_"])
def test_recall_and_precision_on_the_corpus(part):
    score = measure(part)
    recall_floor, precision_floor = FLOORS[part]
    assert score.recall >= recall_floor, "\n".join(score.leaked)
    assert score.precision >= precision_floor, "\n".join(score.damaged)


def test_the_corpus_is_big_enough_and_well_formed():
    corpus = load()
    assert len(corpus["secrets"]) >= 60 and len(corpus["lookalikes"]) >= 60
    ids = [s["id"] for part in corpus.values() for s in part]
    assert len(ids) == len(set(ids))
    for sample in corpus["secrets"] + corpus["heldout_secrets"]:
        assert all(value in sample["text"] for value in sample["hide"]), sample["id"]


def _planted(make_repo):
    corpus = load()
    secrets = corpus["secrets"] + corpus["heldout_secrets"]
    lookalikes = corpus["lookalikes"] + corpus["heldout_lookalikes"]
    files: dict[str, str | bytes] = {f"s/{s['id']}/{s['file']}": (s["text"] + "\n").encode() for s in secrets}
    files |= {f"l/{s['id']}/{s['file']}": (s["text"] + "\n").encode() for s in lookalikes}  # bytes: not dedented
    root = make_repo({}, git_repo=True)
    write_files(root, files)
    git(root, "config", "http.extraheader", "AUTHORIZATION: basic eC1hY2Nlc3MtdG9rZW46Z2hwX1F3M3JUeTh1STlvUDBh")
    return root, secrets, lookalikes


@pytest.mark.anyio
async def test_no_corpus_secret_leaves_through_the_server_and_look_alikes_stay(make_repo):
    root, secrets, lookalikes = _planted(make_repo)
    leaked, damaged = [], []
    async with server_client(root, extra=("--read-only",)) as client:
        for sample in secrets:
            result = await client.call_tool("read_file", {"path": f"s/{sample['id']}/{sample['file']}"})
            assert not result.is_error, text_of(result)
            leaked += [sample["id"] for value in sample["hide"] if leaks(value, result.structured_content["text"])]
            # A search for the value itself finds nothing: search runs over redacted text.
            found = await client.call_tool("search_repository", {"pattern": re.escape(sample["hide"][0]),
                                                                 "path_glob": f"s/{sample['id']}/*"})
            assert found.structured_content["matches"] == [], sample["id"]
        for sample in lookalikes:
            result = await client.call_tool("read_file", {"path": f"l/{sample['id']}/{sample['file']}"})
            shown = "\n".join(line.split("\t", 1)[1] for line in result.structured_content["text"].split("\n"))
            if shown != sample["text"]:
                damaged.append(sample["id"])
        for path in (".git/config", ".git/HEAD", ".GIT/config", "s/../.git/config"):
            refused = await client.call_tool("read_file", {"path": path})
            assert refused.is_error and "extraheader" not in text_of(refused), path
        inside = await client.call_tool("search_repository", {"pattern": "repositoryformatversion|logallrefupdates"})
        assert inside.structured_content["matches"] == []
        into = await client.call_tool("scan_repository", {"repository": str(root / ".git")})
        assert into.is_error and "inside a .git folder" in text_of(into)
    assert leaked == [] and damaged == []
