"""Models of resellers: see DESIGN.md for what this app owns."""
