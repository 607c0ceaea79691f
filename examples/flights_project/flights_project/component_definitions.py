"""The Component version of the project for `dagster dev -m flights_project.component_definitions`: everything in
flights_project/defs/ (the assets, and the SLO checks from slo_checks/defs.yaml). `dg dev` loads the same folder."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

defs = dg.load_from_defs_folder(path_within_project=Path(__file__).resolve().parent.parent)
