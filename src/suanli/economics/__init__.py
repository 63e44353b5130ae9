"""economics layer (see DESIGN.md)."""
