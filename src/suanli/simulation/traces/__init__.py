"""Trace loaders: real (Philly, openb), user-supplied (CSV) and synthetic workload traces."""
