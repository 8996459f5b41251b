"""Models of subscriptions: see DESIGN.md for what this app owns."""
