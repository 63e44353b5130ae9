"""Trace loaders: turn published workload traces into scheduling tables."""
