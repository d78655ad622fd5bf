"""Benchmark: a full `scan` against its floor, on a large synthetic repository, in one process.

Baseline (the floor no scan can beat): `git ls-files --cached --others --exclude-standard` plus reading and decoding
every file that some detector wants, i.e. the same files the scan reads, in the same Python process.
Ratio = median(scan) / median(baseline) over interleaved runs, in wall time and in CPU time (this process plus
its git children: on a loaded machine the CPU ratio is the steadier one). Targets: <= 3 on the synthetic
repository, <= 5 on a real clone. Also prints the process's peak resident memory.

    python benchmarks/scan.py [--files 20000] [--runs 5] [--repo PATH] [--compare SRC] [--warm] [--floor]
                              [--remember [--empty-store | --calls-only]]

`--compare SRC` measures a paired before -> after: the package under SRC/src (another checkout, such as
`git archive <commit> src | tar -x -C SRC`) and this tree's, each in its own worker process, runs interleaved;
it also prints both ratios against one baseline, the median of both workers' baseline runs (the same code reading
the same files), and the median of the per-run after/before scan CPU (run i of both trees back to back: a load that
drifts over the measurement moves the two medians apart, not the ratio within a pair).

The synthetic repository (>= 20,000 files, >= 200 CI and config files, one git commit) is built once under
benchmarks/.cache/ and reused; `--repo PATH` measures an existing repository (any local clone) instead.

`--remember` times repeat scans: each loads the scan memo (`discovery._memo`) its predecessor left, in a temporary
cache folder (one per `--compare` worker), and writes it back, as a second `scan` of a folder does; with
`--empty-store` each timed scan starts without one and writes it (a first scan: cold, plus the cost of keeping).
A tree from before the memo (`--compare SRC`) scans cold either way. Since 2026-12-07 12:20 a scan's JSON is
serialized as `scan -f json` does (`model_dump_json(indent=2)`; before: `model_dump` then `json.dumps`, which cost
2.3x as much: 6.2 against 2.7 ms on eks-blueprints).

`--calls-only` (with `--remember`) drops the last scan's record before each timed scan (`discovery._unchanged`), as
after an edit: every remembered call is replayed and the rest runs.

Measured 2026-12-07 13:15 UTC on 2 CPUs (load 0.4-1.0), `--compare` with main at 526c016 (before the memo; cold),
11 paired runs, CPU medians, ratios against the pooled baseline; after = 8ec1f3c. The same scan JSON cold, first
and repeat on the six clones and the twelve evals samples, with and without --include-fixtures. "Paired" is
after/before per run:

| repository | baseline | cold before | unchanged (--remember) | after an edit (--calls-only) | first (--empty-store) |
|---|---|---|---|---|---|
| hashicorp/terraform | 60 ms | 5.1 | 1.24 (paired 0.244) | 2.61 (0.523) | 6.01 (1.163) |
| terraform-google-kubernetes-engine | 16 ms | 23.6 | 1.82 (0.076) | 3.78 (0.161) | 25.0 (1.060) |
| terraform-aws-eks | 5 ms | 30.2 | 2.24 (0.070) | 4.11 (0.147) | 28.8 (1.039) |
| terraform-aws-eks-blueprints | 8 ms | 28.4 | 2.65 (0.095) | 5.57 (0.204) | 31.3 (1.128) |
| kube-prometheus | 7 ms | 38.0 | 2.34 (0.062) | 4.13 (0.128) | 36.6 (1.034) |
| pallets/flask | 4 ms | 45.4 | 1.93 (0.042) | 4.48 (0.102) | 43.3 (1.044) |

What a repeat scan of an unchanged folder does: list it, read and hash the files the record names, look at the
executable bits it names, validate the recorded Inventory from JSON and read the git facts again. After an edit: list
and read every file, replay the findings of each remembered call whose files did not change (validated from JSON;
hashicorp/terraform: 1,669 calls), run the rest and the detectors that read other files (make, npm, helm, ...), the
finalizers (linking runbook commands to tasks and jobs: eks-blueprints 9 of its 45 ms), build and serialize the
Inventory and keep the new record (2.6 ms of JSON on eks-blueprints).

Each timed scan is cold, as a CLI scan is: `redaction.redact_line` keeps its answers for the life of the process
(the MCP server scans again and again), so before 2026-12-07 03:00 every scan after the warm-up here skipped nearly
all of its redaction (hashicorp/terraform: 4 ms of 69), a cross-scan memo the ratio counted as speed. The benchmark
now clears it before each timed scan; `--warm` keeps it, as the tables below that date were measured.

Measured 2026-12-07 05:34 UTC on 2 CPUs shared with other jobs (load 2.4-2.9), `--compare` (11 paired runs, CPU
medians, ratios against the pooled baseline), cold: before = main at adecfb8, after = main at 555bfce (Kubernetes
values built only when read, `yamlsrc.load_yaml_lazily`; a Terraform text parsed once per scan, `_ParseMemo`; plain
YAML scalars typed as YAML 1.2 tools read them). Same scan JSON on the clones and the twelve evals samples, except
kube-prometheus, whose AlertmanagerConfig CRD (an enum listing `- =`) was "invalid YAML" before and is listed now:

| repository | scan CPU before -> after | CPU ratio before -> after | paired after/before |
|---|---|---|---|
| hashicorp/terraform | 335 -> 315 ms | 5.48 -> 5.16 | 0.972 |
| terraform-google-kubernetes-engine | 456 -> 393 ms | 27.8 -> 24.0 | 0.875 |
| prometheus-operator/kube-prometheus (318 files, 5.6 MB of YAML) | 401 -> 284 ms | 44.9 -> 31.9 | 0.706 |
| terraform-aws-eks | | 33.8 -> 32.7 | 0.991 |
| aws-ia/terraform-aws-eks-blueprints | | 32.1 -> 31.6 | 0.962 |
| pallets/flask (nothing it reads changed) | | 48.0 -> 49.7 | 1.015 |

The floor under those ratios, `--floor` (7 runs, CPU medians, cyclic collector paused as in a scan): the parsers
alone, markdown-it on the procedure documents, libyaml's composer on the files the Kubernetes detector parses and
the HCL parser on each distinct `.tf` text, against the same baseline. On five of the six clones they alone cost
more than 5x the baseline, so no change to what the detectors do with the trees can bring those scans to 5x; that
would take compiled parsers with the same trees, or not parsing (a cache of results across scans):

| repository | baseline | markdown-it | libyaml compose | HCL parser | floor ratio | scan ratio |
|---|---|---|---|---|---|---|
| hashicorp/terraform | 60.7 ms | 0.78x | 0 | 0.49x | 1.27 | 5.16 |
| terraform-google-kubernetes-engine | 15.6 ms | 4.24x | 3.52x | 5.15x | 12.9 | 24.0 |
| terraform-aws-eks | 4.8 ms | 8.10x | 0.08x | 6.20x | 14.4 | 32.7 |
| terraform-aws-eks-blueprints | 8.8 ms | 5.18x | 0.32x | 2.52x | 8.0 | 31.6 |
| pallets/flask | 4.2 ms | 21.5x | 0 | 0 | 21.5 | 49.7 |
| kube-prometheus | 8.7 ms | 2.52x | 21.8x | 0 | 24.3 | 31.9 |

Measured 2026-12-07 04:18 UTC on 2 CPUs shared with other jobs (load 2.4-3.0), `--compare` (31 paired runs on
hashicorp/terraform, 15 on the other clones; CPU medians; ratios against the pooled baseline; "paired" is the median
of the per-run after/before), cold: before = main at 7d85680, after = main at 35d5ec7 (HCL tokens from one
`findall` per file, past block comments that start a line and through templates with plain strings inside, and a
parser over token texts instead of (kind, text) tuples; a paragraph's two texts from one walk, its code-span
commands looked for only at its first instruction). Same scan JSON, byte for byte, on these five and the twelve
evals samples (with and without --include-fixtures); the same blocks, values, lines and problems as the tuple parser
(tests/discovery/hcl_reference.py) on the 3,105 HCL files of the clones and samples and on 8,000 generated texts:

| repository | scan CPU before -> after | CPU ratio before -> after | paired after/before |
|---|---|---|---|
| hashicorp/terraform | 323 -> 317 ms | 5.32 -> 5.23 | 0.983 |
| pallets/flask | 199 -> 192 ms | 47.9 -> 46.3 | 0.967 |
| terraform-aws-modules/terraform-aws-eks | 154 -> 142 ms | 31.6 -> 29.1 | 0.927 |
| aws-ia/terraform-aws-eks-blueprints | 254 -> 245 ms | 30.5 -> 29.4 | 0.966 |
| terraform-google-modules/terraform-google-kubernetes-engine | 492 -> 464 ms | 30.1 -> 28.5 | 0.950 |

On hashicorp/terraform at load 1.1 (03:53 UTC, after = main at a03573e, which measures as 35d5ec7 there: paired
1.001 over 21 runs) the same command gave 327 -> 314 ms, 5.42 -> 5.20, paired 0.957; other runs at load 1.0-4.8
gave 5.28 -> 5.13, 5.44 -> 5.19, 5.78 -> 5.33, 5.59 -> 5.14, paired 0.94-0.99: on this machine a scan-level
difference of 2-5% is near the noise, the paired ratio the least moved by it. The Terraform scanner and parser
alone (`_parse_read` over every `.tf` file of a clone, collector off as in a scan, min of 11 or 15):
hashicorp/terraform 42 -> 35 ms (1,735 of 1,739 files on the `findall` path: 0.17 us a token in the regex engine,
the rest the parser's loop), terraform-google-kubernetes-engine 136 -> 103 (510 of 536), terraform-aws-eks 37.0 ->
29.9 (73 of 87), eks-blueprints 24.6 -> 22.0 (130 of 164); the other files (heredocs, interpolations nested in a
template's strings, block comments after a token) go through `Scanner` as before.

Where a cold scan of hashicorp/terraform goes now (about 315 ms CPU, timed per detector): Markdown procedures about
95 ms (markdown-it's parse 47 of it, spread over its rules and 12,000 tokens), the Terraform detector about 80 with
its reads of the other files of each folder (its scanner and parser about 40 in a scan, its blocks made into items
about 15), the rest reading, selecting files, redaction (about 30 in all: 512 lines each searched by some 40
detect-secrets patterns) and the other detectors. The 5x target (300 ms against a 60 ms baseline) needs about 15 ms
more, and no single part left holds it. Tried and dropped this time: a block-rule dispatch by a line's first
character in markdown-it's block loop (same trees on 572 documents; 1-2 ms of 47); redacting procedure steps only
where read (the section decisions read the redacted text of nearly every step: 82 of 85 list items on
hashicorp/terraform, no less redaction); one text token made directly for an inline content without any character
that stops markdown-it's text rule (218 of 1,138 contents, mostly headings: no measurable gain). Weighed and not
tried: skipping the redaction of fixture items that are only counted (7 of 31 ms measured on them, and it would
leave unredacted text in findings).

Measured 2026-12-07 03:20 UTC on 2 CPUs shared with other jobs (load 1.4-2.4), `--compare` (21 paired runs on
hashicorp/terraform, 15 on the other clones, 11 on the synthetic repository; CPU medians; ratios against the pooled
baseline), cold: before = main at db47cf6 (this morning), after = the issue 17 "scan2" changes (reading with
os.read; fixture, coverage and folder decisions once per folder, on top of the parent's; markdown-it's inline loop
offering a position only the rules its character opens; link destinations not normalized for a tree that keeps
none; redaction patterns screened by what they need (`regex_needs`) and the keyword plugin by its keywords; no
container per listed folder for the cyclic collector). Same scan JSON, byte for byte, on these five and the twelve
evals samples (with and without --include-fixtures), and the same redaction of 314,704 distinct lines:

| repository | scan CPU before -> after | CPU ratio before -> after |
|---|---|---|
| hashicorp/terraform | 441 -> 351 ms | 6.98 -> 5.56 |
| hashicorp/terraform, `--warm` (as the tables below) | 366 -> 313 ms | 5.85 -> 5.00 |
| pallets/flask | 265 -> 212 ms | 55.9 -> 44.9 |
| terraform-aws-modules/terraform-aws-eks | 259 -> 170 ms | 48.4 -> 31.7 |
| aws-ia/terraform-aws-eks-blueprints | 388 -> 261 ms | 44.4 -> 29.9 |
| terraform-google-modules/terraform-google-kubernetes-engine | 625 -> 546 ms | 37.0 -> 32.4 |
| synthetic, 20,000 files | 373 -> 351 ms | 2.99 -> 2.82 |

Where a cold scan of hashicorp/terraform goes now (about 350 ms CPU; py-spy samples): Markdown procedures about
105 ms (markdown-it's parse about 55, the procedure builder about 35 with its redaction), the Terraform detector
about 65 (its scanner and parser about 40: 60,000 tokens at about 0.45 us each in the scanner alone, Python's
regex engine and a tuple per token), reading files about 40 (as much as the baseline's reading: openat2 and two
os.read per file), redaction about 30 in all (its detect-secrets and own patterns on the 500 lines that need a
look, each pattern a regex search), selecting files about 15, the scripts, workflow and other detectors about 35;
the baseline is about 63. Tried and dropped, slower or no faster: a line-at-a-time path for simple Terraform
files (1,000 of 1,700 files qualify, but a line regex costs as much as its tokens), one token for a whole `name =
value` line, folding blank lines into the newline token, one alternation of all redaction patterns as a screen
(Python's engine tries every alternative at every position: slower than the searches one by one), one call per
terminator chain in markdown-it's block rules (1%), keeping the collector paused past the read pass.

Measured 2026-12-07 00:00 UTC on 2 CPUs shared with other jobs (load about 2), `--compare` (9 paired runs per
repository; CPU medians; ratios against the pooled baseline): before = main at ba18163, after = the issue 17
"scan" changes (tables built only when read, by our own GFM table rule; block rules offered only the lines they
can start; Terraform values built only where the detector reads them and a token pattern with the frequent
branches first; plain YAML strings constructed directly; one openat2 `open_how` per set of flags). Same scan
JSON, byte for byte, on these five and on the twelve evals samples:

| repository | scan CPU before -> after | CPU ratio before -> after |
|---|---|---|
| terraform-aws-modules/terraform-aws-eks | 192 -> 132 ms | 38.8 -> 26.7 |
| aws-ia/terraform-aws-eks-blueprints | 228 -> 207 ms | 27.2 -> 24.8 |
| terraform-google-modules/terraform-google-kubernetes-engine | 712 -> 511 ms | 45.0 -> 32.3 |
| hashicorp/terraform | 339 -> 317 ms | 5.93 -> 5.54 |
| pallets/flask | 199 -> 184 ms | 46.3 -> 42.8 |

On terraform-google-kubernetes-engine the kubernetes detector (about 110 ms after) reads 40 Cloud Foundation
Toolkit `metadata*.yaml` files (`kind: BlueprintMetadata`, 20-53 kB each) whole: parsing them (libyaml events
and PyYAML's resolver, about 60 ms) is most of it, and is needed to report a file's YAML errors.

Measured 2026-12-06 22:10 UTC on 2 CPUs shared with other jobs (load 5-6), `--compare` (paired runs: 21 on
hashicorp/terraform, 11 on the others; CPU medians; ratios against the pooled baseline): before = main with
discovery/{__init__,_docformats,_mdtree,procedures,terraform}.py as at caa87e3, after = the scan-cost change
(Markdown trees freed by reference counting instead of one cyclic collection at the end of the scan; HCL tokens
as tuples, an unrolled string pattern, a parser without a call per token; reStructuredText conversion; hand-work
markers grouped by first letter; glob look-ups once per base name):

| repository | files listed (read) | scan CPU before -> after | CPU ratio before -> after |
|---|---|---|---|
| pallets/flask | 236 (92) | 332 -> 266 ms | 69 -> 56 |
| terraform-aws-modules/terraform-aws-eks | 185 (145) | 351 -> 250 ms | 68 -> 48 |
| hashicorp/terraform | 5,457 (1,826) | 469 -> 419 ms | 7.2 -> 6.4 |

Where the rest goes on hashicorp/terraform (per scan, CPU, measured apart at a similar load): the Terraform
detector about 100 ms (its scanner and parser about 65: 60,000 tokens in 1,739 small files), Markdown procedures
about 95 (markdown-it's own parse about 70 of it, for 37 documents), reading and selecting files about 55, the
other detectors about 35, listing, fixtures, coverage and the Inventory about 50; the baseline is 65. The 5x target
needs a cheaper Markdown parse than markdown-it's, or a sound way to skip documents unparsed: a document without
any hand-work marker in its raw text holds no kept procedure unless inline markup splices one together
(`de*ploy*`, `[terraform](x) apply`, `&#100;eploy`), so a raw-text pre-check is not sound as it stands. Turning
off, per document, the block rules whose opening character it lacks (`|`, `>`, `<`, fences, `#`, `]:`) gives the
same tokens but only 5% less parse time.

Earlier, before = main at 294f886, after = the procedures/watchdog change, same process layout (medians of 5 runs):

| repository | files listed (read) | scan CPU before -> after | CPU ratio before -> after |
|---|---|---|---|
| pallets/flask | 236 (92) | 399 -> 245 ms | 89 -> 52 |
| terraform-aws-modules/terraform-aws-eks | 185 (145) | 504 -> 265 ms | 93 -> 57 |
| terraform-google-modules/terraform-google-kubernetes-engine | 840 (733) | 1452 -> 1080 ms | 99 -> 79 |
| hashicorp/terraform | 5,457 (1,826) | 572 -> 478 ms | 10.3 -> 8.4 |
| helm/helm | 2,011 (859) | 304 -> 286 ms | 13.8 -> 12.9 |

Those runs were unpaired, at another load: compare ratios within a table, not across them.
"""

from __future__ import annotations

import argparse
import gc
import inspect
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from orchestrator_kit import redaction
from orchestrator_kit.discovery import discover, load_detectors
from orchestrator_kit.repo import Workspace, git_command, git_env

CACHE = Path(__file__).resolve().parent / ".cache"

WORKFLOW = """name: Service {i}
on:
  push:
    branches: [main]
  pull_request:
  schedule:
    - cron: "{m} {h} * * *"
jobs:
  lint:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          cache: pip
      - run: make -C services/svc{i} lint
  test:
    needs: lint
    runs-on: ubuntu-latest
    strategy:
      matrix:
        python: ["3.11", "3.12"]
    steps:
      - uses: actions/checkout@v4
      - run: |
          pip install -e services/svc{i}
          make -C services/svc{i} test
  deploy:
    needs: [test]
    environment: production
    runs-on: ubuntu-latest
    steps:
      - run: make -C services/svc{i} deploy
"""
MAKEFILE = """.PHONY: lint test deploy
lint: ## Lint service {i}
\truff check .
test: lint ## Test service {i}
\tpytest -q
deploy: test
\tkubectl apply -f k8s/
\tkubectl rollout status deployment/svc{i}
"""
PACKAGE_JSON = """{{
  "name": "web{i}",
  "scripts": {{
    "build": "vite build",
    "prebuild": "npm run lint",
    "lint": "eslint .",
    "test": "vitest run"
  }}
}}
"""
DOCKERFILE = """FROM python:3.12-slim AS build
RUN pip wheel -w /w .
FROM python:3.12-slim
COPY --from=build /w /w
CMD ["python", "-m", "svc{i}"]
"""
MANIFEST = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: svc{i}
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: app
          image: registry.example/svc{i}:1.0
"""
RUNBOOK = """# Runbook for service {i}

## Restart

1. Log in to the bastion: `ssh ops@bastion`
2. Restart the service:

   ```bash
   kubectl rollout restart deployment/svc{i}
   make -C services/svc{i} deploy
   ```
"""


def build_repo(target: Path, n_files: int) -> Path:
    """Write the synthetic repository and commit it (deterministic content)."""
    if (target / ".git").is_dir():
        return target
    target.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}
    n_services = 60
    for i in range(n_services):
        files[f".github/workflows/svc{i}.yml"] = WORKFLOW.format(i=i, m=i % 60, h=i % 24)
        files[f"services/svc{i}/Makefile"] = MAKEFILE.format(i=i)
        files[f"services/svc{i}/Dockerfile"] = DOCKERFILE.format(i=i)
        files[f"services/svc{i}/k8s/deployment.yaml"] = MANIFEST.format(i=i)
        files[f"docs/runbooks/svc{i}.md"] = RUNBOOK.format(i=i)
    for i in range(30):
        files[f"web/app{i}/package.json"] = PACKAGE_JSON.format(i=i)
        files[f"web/app{i}/config.yaml"] = f"feature_flags:\n  beta: {str(i % 2 == 0).lower()}\n"
    config_count = len(files)
    i = 0
    while len(files) < n_files:
        files[f"services/svc{i % n_services}/src/pkg{i // 100}/mod{i}.py"] = (
            f'"""Module {i}."""\n\n\ndef handler_{i}(event):\n    return {{"id": {i}, "ok": True}}\n'
        )
        i += 1
    for rel, text in files.items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "b@example.com",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "b@example.com", "GIT_CONFIG_GLOBAL": os.devnull}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "synthetic"]):
        subprocess.run(["git", "-C", str(target), *args], check=True, env=env)
    print(f"built {len(files)} files ({config_count} CI/config/doc files) in {target}", file=sys.stderr)
    return target


def wanted_files(root: Path) -> list[str]:
    """The files some detector wants: what the scan reads. Computed once, outside the timed baseline."""
    detectors = load_detectors()
    return [rel for rel in Workspace(root).files() if any(d.wants(rel) for d in detectors)]


def baseline(root: Path, wanted: list[str]) -> int:
    """git ls-files (parsed into paths) + read and decode the wanted files. Returns the number of files read."""
    proc = subprocess.run(git_command(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard"),
                          capture_output=True, env=git_env(), check=True)
    listed = {os.fsdecode(raw) for raw in proc.stdout.split(b"\x00") if raw}
    for rel in wanted:
        if rel in listed:
            with open(root / rel, "rb") as fh:
                fh.read().decode("utf-8", "replace")
    return len(wanted)


REMEMBER = False  # --remember: scans reuse the folder's memo of the scan before (`discovery._memo`)
EMPTY_STORE = False  # --empty-store: with --remember, each scan starts from no memo and writes one (a first scan)
CALLS_ONLY = False  # --calls-only: with --remember, each scan finds the calls' entries but not the scan's record
WARM = False  # --warm: keep redact_line's answers between scans (how the tables before 2026-12-07 03:00 measured)


def full_scan(root: Path) -> int:
    # Cold, as a CLI scan is: `redact_line` keeps its answers for the life of the process (the MCP server scans
    # again and again), which made every scan after the first one here skip nearly all of its redaction
    # (hashicorp/terraform: 4 ms instead of 69 ms; the scan's cross-scan memo, not its cost).
    if not WARM:
        redaction.redact_line.cache_clear()
    # --remember: a repeat scan, as a second `scan` of an unchanged folder runs: the memo is read from its store and
    # written back within the timed call. A package from before the memo (--compare) takes no such argument.
    remember = {"remember": True} if REMEMBER and "remember" in inspect.signature(discover).parameters else {}
    if remember and EMPTY_STORE:
        from orchestrator_kit.discovery import _memo

        _memo.store_path(root).unlink(missing_ok=True)  # a first scan: it finds nothing kept, and keeps it all
    elif remember and CALLS_ONLY:
        from orchestrator_kit.discovery import _memo

        # As after a change to one file: the calls are kept, the last scan's record is not (`_unchanged`).
        store = _memo.store_path(root)
        entries = _memo._read_store(store)
        if entries.pop(getattr(_memo, "RECORD_KEY", b"scan"), None) is not None:
            _memo._write_store(store, entries)
    inventory = discover(Workspace(root), **remember)
    inventory.model_dump_json(indent=2)  # the scan's product includes serializing it, as `scan -f json` does
    return inventory.files_read


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--repo", type=Path)
    parser.add_argument("--compare", type=Path, metavar="SRC",
                        help="also measure the package under SRC/src (another checkout, e.g. from `git archive`), in "
                             "a second process, its runs interleaved with this tree's: a paired before -> after")
    parser.add_argument("--warm", action="store_true",
                        help="keep redaction's per-line answers from one scan to the next (not a cold scan's cost)")
    parser.add_argument("--floor", action="store_true",
                        help="time the parsers alone (markdown-it, libyaml's composer, the HCL parser) on the files "
                             "the scan gives them, against the baseline: what no detector logic can go under")
    parser.add_argument("--remember", action="store_true",
                        help="time repeat scans: each one loads the memo the scan before it left (in a temporary "
                             "cache folder) and saves it again, as a second `scan` of an unchanged folder does")
    parser.add_argument("--empty-store", action="store_true",
                        help="with --remember: delete the memo before each timed scan, so that each one is a first "
                             "scan that finds nothing kept and writes it all (the cost of keeping it)")
    parser.add_argument("--calls-only", action="store_true",
                        help="with --remember: drop the last scan's record (`discovery._unchanged`) before each timed "
                             "scan, as after a change to one file: every remembered call is replayed, the rest run")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    global WARM, REMEMBER, EMPTY_STORE, CALLS_ONLY
    WARM, REMEMBER, EMPTY_STORE, CALLS_ONLY = args.warm, args.remember, args.empty_store, args.calls_only
    if REMEMBER and not args.serve:
        # Never the user's own cache: the workers of --compare inherit this folder.
        os.environ["ORCHESTRATOR_KIT_CACHE_DIR"] = tempfile.mkdtemp(prefix="scan-memo-bench-")
    root = args.repo or build_repo(CACHE / f"synthetic-{args.files}", args.files)
    if args.serve:
        serve(root)
    elif args.compare is not None:
        compare(root, args.compare, args.runs, args.warm)
    elif args.floor:
        parser_floor(root, args.runs)
    else:
        measure(root, args.runs)


def measure(root: Path, runs: int) -> None:
    wanted = wanted_files(root)
    full_scan(root)  # warm-up: imports, detect-secrets plugins, the OS page cache
    baseline(root, wanted)
    scan_times: list[float] = []
    base_times: list[float] = []
    scan_cpu: list[float] = []
    base_cpu: list[float] = []
    for _ in range(runs):
        start, cpu = time.perf_counter(), cpu_seconds()
        base_read = baseline(root, wanted)
        base_times.append(time.perf_counter() - start)
        base_cpu.append(cpu_seconds() - cpu)
        start, cpu = time.perf_counter(), cpu_seconds()
        scan_read = full_scan(root)
        scan_times.append(time.perf_counter() - start)
        scan_cpu.append(cpu_seconds() - cpu)
    scan_median, base_median = statistics.median(scan_times), statistics.median(base_times)
    listed = len(Workspace(root).files())
    print(f"repository: {root} ({listed} files; baseline read {base_read}, scan read {scan_read}; "
          f"{'warm' if WARM else 'cold'} redaction{_remember_mode()}); "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"baseline (git ls-files + read the same files): median {base_median * 1000:.0f} ms "
          f"(CPU {statistics.median(base_cpu) * 1000:.0f} ms) over {runs} runs")
    print(f"full scan (discover + JSON):                 median {scan_median * 1000:.0f} ms "
          f"(CPU {statistics.median(scan_cpu) * 1000:.0f} ms) over {runs} runs")
    print(f"ratio scan/baseline: {scan_median / base_median:.2f} wall, "
          f"{statistics.median(scan_cpu) / statistics.median(base_cpu):.2f} CPU "
          f"(target <= 3 synthetic, <= 5 real)")
    print(f"peak memory (this process, resident): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


def parser_floor(root: Path, runs: int) -> None:
    """The parsers alone, CPU medians over `runs`, on the texts the scan hands them (read once beforehand):

    * Markdown: `_mdtree.parse` (markdown-it) of each document the procedures detector reads, as it reads them;
    * YAML: libyaml's composer (`yaml.compose_all`, C) over the files the Kubernetes detector parses (it wants them,
      they mention both `apiVersion` and `kind`, they are not a Helm chart's templates), the least it does with
      them (building values comes on top; the other YAML detectors' files are not counted);
    * HCL: the Terraform detector's tokenizer and parser (`_parse_read`) over each distinct `.tf` text it reads.

    floor ratio = (sum of the three) / baseline CPU: the scan ratio cannot go under it while each of these texts is
    parsed, whatever the detectors do with the trees."""
    import yaml

    from orchestrator_kit.discovery import _mdtree
    from orchestrator_kit.discovery._docformats import as_markdown
    from orchestrator_kit.discovery.procedures import strip_front_matter
    from orchestrator_kit.discovery.terraform import _parse_read
    from orchestrator_kit.yamlsrc import _Loader

    wanted = wanted_files(root)
    by_name = {d.name: d for d in load_detectors()}
    texts = {rel: (root / rel).read_bytes().decode("utf-8", "replace") for rel in wanted}
    documents = [(rel, text) for rel, text in texts.items() if by_name["markdown-procedures"].wants(rel)]
    charts = {rel.rpartition("/")[0] for rel in Workspace(root).files() if rel.rpartition("/")[2] == "Chart.yaml"}

    def in_chart_templates(rel: str) -> bool:
        parts = rel.split("/")[:-1]
        return any(part == "templates" and "/".join(parts[:index]) in charts for index, part in enumerate(parts))

    yamls = [text for rel, text in texts.items() if by_name["kubernetes"].wants(rel) and "apiVersion" in text
             and "kind" in text and not in_chart_templates(rel)]
    hcl = list({text: None for rel, text in texts.items() if rel.endswith(".tf") and by_name["terraform"].wants(rel)})

    def markdown() -> None:
        for rel, text in documents:
            _mdtree.release(_mdtree.parse(strip_front_matter(as_markdown(rel, text))))

    def composed() -> None:
        for text in yamls:
            try:
                for _ in yaml.compose_all(text, Loader=_Loader):
                    pass
            except yaml.YAMLError:
                pass  # the scan stops at the error too

    def terraform() -> None:
        for text in hcl:
            _parse_read(text)

    parts = {"markdown-it": (markdown, len(documents)), "libyaml compose": (composed, len(yamls)),
             "HCL parser": (terraform, len(hcl))}  # files; distinct texts for HCL
    cpu: dict[str, list[float]] = {name: [] for name in (*parts, "baseline")}
    baseline(root, wanted)
    for _ in range(runs):
        start = cpu_seconds()
        baseline(root, wanted)
        cpu["baseline"].append(cpu_seconds() - start)
        for name, (work, _count) in parts.items():
            gc.disable()  # as the scan parses: with its cyclic collector paused (`discovery._collector_paused`)
            try:
                start = cpu_seconds()
                work()
                cpu[name].append(cpu_seconds() - start)
            finally:
                gc.enable()
            gc.collect()
    base = statistics.median(cpu["baseline"])
    print(f"repository: {root}; {runs} runs; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"baseline (git ls-files + read the same files): CPU {base * 1000:.1f} ms")
    total = 0.0
    for name, (_work, count) in parts.items():
        spent = statistics.median(cpu[name])
        total += spent
        print(f"{name:16s} {count:5d} files: CPU {spent * 1000:7.1f} ms = {spent / base:5.2f}x the baseline")
    print(f"the parsers alone: {total * 1000:.1f} ms CPU = floor ratio {total / base:.2f} (a scan's ratio is above it)")


def serve(root: Path) -> None:
    """The worker of `--compare`: after a warm-up, each line read names a measurement to run ("baseline" or "scan");
    the answer is one line, its CPU seconds (this process plus its git children)."""
    wanted = wanted_files(root)
    full_scan(root)
    baseline(root, wanted)
    print("ready", flush=True)
    for line in sys.stdin:
        cpu = cpu_seconds()
        if line.strip() == "baseline":
            baseline(root, wanted)
        else:
            full_scan(root)
        print(f"{cpu_seconds() - cpu:.6f}", flush=True)


def compare(root: Path, before_src: Path, runs: int, warm: bool = False) -> None:
    """Paired before -> after: two worker processes, one importing the package from `before_src`/src and one from
    this tree, measured in turn (baseline then scan in each, alternating which tree goes first), so that both see
    the same machine state. Ratio = median(scan CPU) / median(baseline CPU) within each worker."""
    here = Path(__file__).resolve().parent.parent / "src"
    workers: dict[str, subprocess.Popen[str]] = {}
    for label, src in (("before", before_src.resolve() / "src"), ("after", here)):
        env = {**os.environ, "PYTHONPATH": str(src)}
        if REMEMBER:  # a store of its own: two trees' code fingerprints differ, and each would empty the other's
            env["ORCHESTRATOR_KIT_CACHE_DIR"] = os.path.join(os.environ["ORCHESTRATOR_KIT_CACHE_DIR"], label)
        workers[label] = subprocess.Popen([sys.executable, __file__, "--serve", "--repo", str(root),
                                           *(["--warm"] if warm else []), *(["--remember"] if REMEMBER else []),
                                           *(["--empty-store"] if EMPTY_STORE else []),
                                           *(["--calls-only"] if CALLS_ONLY else [])],
                                          env=env,
                                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    cpu: dict[str, dict[str, list[float]]] = {label: {"baseline": [], "scan": []} for label in workers}
    try:
        for label, worker in workers.items():
            assert worker.stdout is not None  # piped above
            if worker.stdout.readline().strip() != "ready":
                raise SystemExit(f"the {label} worker did not start")
        for run in range(runs):
            order = list(workers) if run % 2 == 0 else list(reversed(workers))
            for label in order:
                worker = workers[label]
                assert worker.stdin is not None and worker.stdout is not None  # piped above
                for what in ("baseline", "scan"):
                    worker.stdin.write(what + "\n")
                    worker.stdin.flush()
                    cpu[label][what].append(float(worker.stdout.readline()))
    finally:
        for worker in workers.values():
            if worker.stdin is not None:
                worker.stdin.close()
            worker.wait()
    print(f"repository: {root}; {runs} paired runs, {'warm' if warm else 'cold'} redaction"
          f"{_remember_mode()}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for label in workers:
        scan, base = statistics.median(cpu[label]["scan"]), statistics.median(cpu[label]["baseline"])
        print(f"{label:6s} ({before_src if label == 'before' else here.parent}): scan CPU {scan * 1000:.0f} ms, "
              f"baseline CPU {base * 1000:.0f} ms, ratio {scan / base:.2f} CPU")
    # Both workers run this file's baseline on the same files: pooling their runs gives one floor for both ratios,
    # so that the noise of a 5 ms baseline does not move one ratio and not the other.
    pooled = statistics.median(cpu["before"]["baseline"] + cpu["after"]["baseline"])
    before, after = (statistics.median(cpu[label]["scan"]) / pooled for label in ("before", "after"))
    print(f"against the pooled baseline ({pooled * 1000:.0f} ms CPU): ratio {before:.2f} -> {after:.2f} CPU "
          f"(scan CPU {100 * (1 - after / before):.0f}% less)")
    # Run i of both trees ran back to back: the ratio within each pair cancels what the load did over the whole
    # measurement (on a machine shared with other jobs the medians above can drift apart by more than a change).
    pairs = sorted(a / b for a, b in zip(cpu["after"]["scan"], cpu["before"]["scan"], strict=True))
    quarter = len(pairs) // 4
    print(f"paired: scan CPU after/before per run, median {statistics.median(pairs):.3f} "
          f"(middle half {pairs[quarter]:.3f}-{pairs[-1 - quarter]:.3f})")


def _remember_mode() -> str:
    if not REMEMBER:
        return ""
    if EMPTY_STORE:
        return "; first scans, writing the memo (--remember --empty-store)"
    if CALLS_ONLY:
        return "; repeat scans after a change: calls replayed, no record (--remember --calls-only)"
    return "; repeat scans of an unchanged folder (--remember)"


def cpu_seconds() -> float:
    """User + system time of this process and of its finished children (git), in microseconds' resolution
    (`os.times` counts clock ticks, too coarse for a small repository)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


if __name__ == "__main__":
    main()
