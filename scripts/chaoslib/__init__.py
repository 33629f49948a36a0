"""scripts/chaos: a real Hookline under load and faults, and the accounting of every acknowledged delivery."""
