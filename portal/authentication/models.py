"""Sign-in methods a partner allows, and users' linked Microsoft identities (partner schema)."""
