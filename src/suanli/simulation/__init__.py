"""simulation layer (see DESIGN.md)."""
