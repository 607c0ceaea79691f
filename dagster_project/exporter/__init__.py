"""`slo serve` and the Pushgateway push: metric names (names.py), the history read from the store, snapshots."""
