"""Models of reports: see DESIGN.md for what this app owns."""
