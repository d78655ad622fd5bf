"""pulse: tiny metrics collector."""
