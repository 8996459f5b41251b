"""Models of pools: see DESIGN.md for what this app owns."""
