"""Engines compute observed values for a check plan; they never decide pass or fail (slo/decide.py does)."""
