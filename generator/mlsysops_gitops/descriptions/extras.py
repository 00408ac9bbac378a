"""Inputs that build on a valid fleet: agent configurations, policies and applications.

They name hosts, clusters and nodes, so they are read once the system descriptions
hold; ``read_fleet`` attaches them to the fleet it returns.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from mlsysops_gitops.descriptions.agent_files import read_agent_files
from mlsysops_gitops.descriptions.application import read_applications
from mlsysops_gitops.errors import Problem

if TYPE_CHECKING:
    from mlsysops_gitops.descriptions.reader import Fleet


def attach_extras(repo: Path, fleet: Fleet, *, strict: bool = False) -> tuple[Fleet, list[Problem]]:
    """Return ``fleet`` with its agent files and applications, and the problems found in them."""
    agent_files, problems = read_agent_files(repo, fleet, strict=strict)
    applications, found = read_applications(repo, fleet)
    return dataclasses.replace(fleet, agent_files=agent_files, applications=tuple(applications)), problems + found
