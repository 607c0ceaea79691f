"""`slo init`: profile the tables of an existing database (profile.py) and write a starter spec from what was
observed (starter.py)."""
