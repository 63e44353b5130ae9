"""scheduling layer (see DESIGN.md)."""
