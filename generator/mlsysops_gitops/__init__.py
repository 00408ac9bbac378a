"""Render the MLSysOps framework's installation as a GitOps repository."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mlsysops-gitops")
except PackageNotFoundError:  # pragma: no cover (running from a source tree)
    __version__ = "0.0.0+unknown"
