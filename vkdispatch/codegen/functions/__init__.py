"""Codegen functions callable inside a traced shader, grouped by topic."""
