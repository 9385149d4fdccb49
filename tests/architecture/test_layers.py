"""The house's layers are a contract: `lint-imports` (pyproject's [tool.importlinter]) must keep it.

domain imports only events; store never imports service or web; service never
imports web; ops never imports the CLI. A crossing fails the suite, not a review.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_no_layer_imports_one_above_it() -> None:
    linter = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    done = subprocess.run([linter], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "BROKEN" not in done.stdout
