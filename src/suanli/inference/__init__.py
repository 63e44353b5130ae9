"""Inference performance model (pure, numpy-free arithmetic on catalog figures).

Owns: the versioned LLM model catalog (:mod:`.models`), the replica performance model
(:mod:`.replica`: prefill, decode step, KV-limited batch) and the published measurements it is
validated against (:mod:`.validation`). No I/O beyond reading the packaged catalog.
"""
