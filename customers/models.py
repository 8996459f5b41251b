"""Models of customers: see DESIGN.md for what this app owns."""
