"""The settings a team can change, from one place in their repository.

Read from `.orchestrator-kit.toml` at the repository root (the whole file), else from the `[tool.orchestrator-kit]`
table of `pyproject.toml`; when neither exists every default applies. Each capability owns one section (a table
of its own): `[opportunities]` in `.orchestrator-kit.toml`, `[tool.orchestrator-kit.opportunities]` in
pyproject.toml. A capability that needs settings adds its section model here as one more field of `Config`.

The file is repository content (data, never instructions): it is read through `repo.Workspace` (confined, size
capped), parsed with `tomllib`, and validated by the models below, which refuse unknown keys and out-of-range
values with a one-line `ConfigError` naming the file and the key.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from .datatext import load_toml
from .errors import ConfinementError, InputError, ReadError, sentence
from .models import Model
from .repo import Workspace

CONFIG_FILE = ".orchestrator-kit.toml"
PYPROJECT = "pyproject.toml"
PYPROJECT_TABLE = ("tool", "orchestrator-kit")
MAX_CONFIG_BYTES = 256 * 1024


class ConfigError(InputError):
    """The repository's orchestrator-kit settings are not valid TOML or not valid settings."""


class OpportunitySettings(Model):
    """Assumptions of the opportunity matrix (`opportunities`). Every value is an assumption, not a measurement:
    each result lists the values it used. `low_factor`/`high_factor` give the bounds of an assumed number
    (low = value x low_factor, high = value x high_factor) where nothing measured bounds it."""

    minutes_per_command: float = Field(2.0, gt=0, le=600, description="A person typing/pasting and checking one "
                                                                      "command.")
    minutes_per_step_without_command: float = Field(5.0, gt=0, le=600, description="A check, an announcement, a "
                                                                                   "decision.")
    procedure_runs_per_year: float = Field(12.0, ge=0, le=100_000, description="A documented procedure with no "
                                                                                "other signal.")
    incident_runs_per_year: float = Field(2.0, ge=0, le=100_000, description="Restore/recover/incident runbooks.")
    hotfix_runs_per_year: float = Field(4.0, ge=0, le=100_000, description="Hotfixes, with no release history.")
    release_runs_per_year: float = Field(12.0, ge=0, le=100_000, description="Releases, with no release history.")
    task_runs_per_year: float = Field(12.0, ge=0, le=100_000, description="An operational task with no other "
                                                                          "signal.")
    upkeep_runs_per_year: float = Field(52.0, ge=0, le=100_000, description="Recurring upkeep nothing schedules.")
    manual_runs_per_year: float = Field(12.0, ge=0, le=100_000, description="A pipeline started only by hand.")
    pushes_per_year: float = Field(48.0, ge=0, le=1_000_000, description="Pushes when there is no usable history.")
    gate_minutes: float = Field(5.0, ge=0, le=600, description="A person's attention per manual approval (waiting "
                                                               "not counted).")
    effort_hours_per_complexity: float = Field(2.0, gt=0, le=1000, description="Writing and reviewing the "
                                                                                "automation, per complexity point.")
    cache_saving: float = Field(0.75, ge=0, le=1, description="Share of dependency-install time a warm cache "
                                                              "saves.")
    shared_saving: float = Field(0.5, ge=0, le=1, description="Share of a repeated install/build saved by doing it "
                                                              "once.")
    parallel_saving: float = Field(0.3, ge=0, le=1, description="Share of a long critical path that "
                                                                "parallelizing saves.")
    slow_pipeline_minutes: float = Field(30.0, gt=0, le=10_000, description="A critical path (without human "
                                                                            "approvals) at least this long is "
                                                                            "slow.")
    min_window_days: float = Field(28.0, ge=1, le=3650, description="Git counts are annualized only over at "
                                                                    "least this much history.")
    low_factor: float = Field(0.5, gt=0, le=1, description="Low bound of an assumed number, as a share of it.")
    high_factor: float = Field(2.0, ge=1, le=100, description="High bound of an assumed number, as a multiple.")

    def labelled(self) -> dict[str, str]:
        """Every value with its description, for a result's `assumptions`."""
        return {name: f"{getattr(self, name):g} ({info.description})" if info.description else
                f"{getattr(self, name):g}" for name, info in type(self).model_fields.items()}


class ScanSettings(Model):
    """What `scan`, `metrics` and `opportunities` leave out (`[scan]`): globs as for `--exclude` (see `excludes`),
    added to the ones given on the command line."""

    exclude: list[str] = Field(default_factory=list, max_length=100, description="Paths or globs left out of the "
                               "scan and the git history.")


class Config(Model):
    """All sections. `source` says where the values came from (`defaults`, or the file and table)."""

    source: str = "defaults"
    scan: ScanSettings = Field(default_factory=ScanSettings)
    opportunities: OpportunitySettings = Field(default_factory=OpportunitySettings)


def _validate(data: Any, where: str) -> Config:
    if not isinstance(data, dict):
        raise ConfigError(f"{where} is not a table of settings.")
    try:
        return Config.model_validate({**data, "source": where})
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{where}: '{key}': {first['msg']} ({exc.error_count()} problem(s)).") from None


def parse_config(text: str, where: str, table: tuple[str, ...] = ()) -> Config:
    """Settings from TOML text; `table` is the path of the table holding them (empty: the whole document)."""
    try:
        data: Any = load_toml(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where} is not valid TOML: {sentence(str(exc))}") from None
    for name in table:
        if not isinstance(data, dict) or name not in data:
            return Config()
        data = data[name]
    label = f"{where} [{'.'.join(table)}]" if table else where
    if isinstance(data, dict) and "source" in data:
        raise ConfigError(f"{label}: 'source' is not a setting.")
    return _validate(data, label)


def load_config(root: str | Path | Workspace) -> Config:
    """The settings of the repository at `root`: `.orchestrator-kit.toml`, else pyproject's
    `[tool.orchestrator-kit]`, else the defaults. Raises ConfigError for invalid settings."""
    workspace = root if isinstance(root, Workspace) else Workspace(root, max_file_bytes=MAX_CONFIG_BYTES)
    try:
        return parse_config(workspace.read_text(CONFIG_FILE).text, CONFIG_FILE)
    except (ReadError, ConfinementError) as exc:
        if (workspace.root / CONFIG_FILE).exists() or (workspace.root / CONFIG_FILE).is_symlink():
            raise ConfigError(f"{CONFIG_FILE} cannot be read: {getattr(exc, 'reason', exc)}.") from None
    try:
        text = workspace.read_text(PYPROJECT).text
    except (ReadError, ConfinementError):
        return Config()  # no pyproject.toml (or one the scan reports on its own)
    try:
        load_toml(text)
    except tomllib.TOMLDecodeError:
        return Config()  # a broken pyproject.toml is the scan's finding, not a settings error
    return parse_config(text, PYPROJECT, PYPROJECT_TABLE)
