"""Suanli (算力): the operating platform of a GPU computing-power business."""

__version__ = "0.1.0"
