"""Models of catalog: see DESIGN.md for what this app owns."""
