"""Models of marketplace: see DESIGN.md for what this app owns."""
