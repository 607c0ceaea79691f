"""`python -m dagster_project ...`: the `slo` command without its script (e.g. where scripts are not on PATH)."""

import sys

from dagster_project.cli.main import main

sys.exit(main())
