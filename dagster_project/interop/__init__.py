"""Other tools' formats, in and out: OpenSLO v1 documents (openslo.py, checked by openslo_check.py) and Sloth
prometheus/v1 specs (sloth.py). Each reads the wire spec (spec/models.py), never the normalised domain, so a spec
written here and read back is the spec a person wrote."""
