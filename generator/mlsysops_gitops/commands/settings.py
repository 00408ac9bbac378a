"""The settings command: every effective setting and where its value came from."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from mlsysops_gitops.errors import GitOpsError
from mlsysops_gitops.repository import git
from mlsysops_gitops.settings import Settings, env_name, load_with_origins, redacted


@dataclasses.dataclass(frozen=True)
class SettingRow:
    """One setting as render will use it."""

    name: str
    value: str | None
    origin: str
    variable: str


def run_settings(repo: Path, overrides: dict[str, Any]) -> list[SettingRow]:
    """Load the settings of ``repo`` and return one row per setting, in declaration order.

    Raises:
        InputError: naming every missing or invalid setting.
    """
    loaded = load_with_origins(repo, overrides)
    settings, origins = loaded.settings, dict(loaded.origins)
    values: dict[str, Any] = settings.model_dump()
    # Render takes the Argo CD source from Git where the settings leave it open.
    for name, value, origin in _from_git(repo, settings):
        values[name], origins[name] = value, origin
    return [SettingRow(name, _text(values[name]), origins[name], env_name(name)) for name in Settings.model_fields]


def _from_git(repo: Path, settings: Settings) -> list[tuple[str, str, str]]:
    found: list[tuple[str, str, str]] = []
    try:
        repository = git.open_repo(repo)
    except GitOpsError:
        return found
    if repository is None:
        return found
    if settings.repo_url is None:
        url = git.origin_url(repository)
        if url is not None:
            found.append(("repo_url", str(redacted(url)), "Git remote origin"))
    if settings.target_revision is None:
        try:
            found.append(("target_revision", git.current_branch(repository), "Git current branch"))
        except GitOpsError:
            pass
    return found


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def format_rows(rows: list[SettingRow]) -> str:
    """Return the rows as an aligned table: setting, value, source."""
    table = [("setting", "value", "source")] + [(row.name, "(unset)" if row.value is None else row.value, row.origin) for row in rows]
    widths = [max(len(line[column]) for line in table) for column in range(2)]
    return "".join(f"{name:<{widths[0]}}  {value:<{widths[1]}}  {origin}".rstrip() + "\n" for name, value, origin in table)
