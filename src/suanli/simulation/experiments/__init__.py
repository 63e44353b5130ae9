"""Experiments: reproducible protocols that drive the scheduling layer and summarise the runs."""
