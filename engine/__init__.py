"""tongban's engine: process registry, persistence and runtime around SpiffWorkflow (no HTTP here)."""
