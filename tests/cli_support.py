"""Running the `slo` command as a user does, in a child process: from a folder of the test's own (so nothing lands in
the checkout), with the bundled example's specs named the way a user names theirs (SLO_SPECS), since outside a
checkout no command falls back to them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BUNDLED_SPECS = REPO / "slo_definitions"


def run_slo(
    *args: str, cwd: Path = REPO, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("SLO_")}
    return subprocess.run(
        [sys.executable, "-m", "dagster_project.cli.main", *args],
        cwd=cwd,
        env={**inherited, "SLO_SPECS": str(BUNDLED_SPECS), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
