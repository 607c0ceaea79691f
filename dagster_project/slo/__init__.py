"""The SLO domain: specs mapped to normalised SLOs, compiled into an engine-neutral plan, and the pure decisions."""
