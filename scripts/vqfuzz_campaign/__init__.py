"""vqfuzz campaign tooling: run campaigns, triage findings, write reports (see reports/README.md)."""
