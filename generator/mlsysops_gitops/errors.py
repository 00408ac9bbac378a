"""Expected failures and the exit code each one maps to.

Code raises these where the fault is found; the CLI reports them once, without a
traceback unless ``--debug`` is given.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

EXIT_INPUT = 1
EXIT_USAGE = 2
EXIT_TOOL = 3
EXIT_INTERNAL = 4
# diff exits 1 for changes, like git diff --exit-code, so its input errors need their own code.
EXIT_DIFF_INPUT = 5


@dataclasses.dataclass(frozen=True, order=True)
class Problem:
    """One finding in an input file, located as precisely as the input allows."""

    path: str
    line: int = 0
    column: int = 0
    kind: str = ""
    field: str = ""
    message: str = ""
    severity: str = "error"

    def format(self) -> str:
        location = self.path
        if self.line:
            location += f":{self.line}:{self.column or 1}"
        # A field that starts with a list index follows the kind directly: MLSysOpsNode[0].
        subject = self.kind + self.field if self.field.startswith("[") else ".".join(part for part in (self.kind, self.field) if part)
        prefix = f"{location}: {subject}: " if subject else f"{location}: "
        if self.severity != "error":
            prefix += f"{self.severity}: "
        return prefix + self.message

    def as_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


class GitOpsError(Exception):
    """Base of the failures that end a run with a message instead of a traceback."""

    exit_code = EXIT_INPUT


class InputError(GitOpsError):
    """Descriptions or settings are invalid; carries every problem found in the run."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: Sequence[Problem] = sorted(problems)
        count = len(self.problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} found")


class RepositoryError(GitOpsError):
    """The target repository is in a state render must not touch."""


class ToolError(GitOpsError):
    """An external tool (kustomize, git) failed or is missing."""

    exit_code = EXIT_TOOL
