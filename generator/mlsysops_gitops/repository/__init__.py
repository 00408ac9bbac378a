"""The rendered files on disk (files.py) and Git (git.py)."""

import os

# GitPython looks for the git executable on import and raises ImportError with a long
# explanation when it is missing, which would break even --help. "quiet" defers the
# failure to the first git call, where repository/git.py reports it as a ToolError.
os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
