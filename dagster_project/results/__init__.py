"""The results store: every evaluation of every SLO, appended."""
