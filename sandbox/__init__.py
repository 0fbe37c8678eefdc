"""The operator sandbox: one HTTP service playing the operator's systems (see sandbox/README.md)."""
