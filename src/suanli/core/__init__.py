"""Domain types shared by every layer: money, the GPU catalog, errors, the clock. No I/O."""
