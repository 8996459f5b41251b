from django.contrib.auth import get_user_model
from django.db import transaction

User = get_user_model()

PROFILE_FIELDS = ("first_name", "last_name", "organisation_name", "language")


def user_profile_update(*, actor: User, user: User, changes: dict) -> User:
    """Save the editable profile fields. Users edit only their own profile (the view passes itself)."""
    with transaction.atomic():
        for field in PROFILE_FIELDS:
            if field in changes:
                setattr(user, field, changes[field])
        user.save(update_fields=[field for field in PROFILE_FIELDS if field in changes])
    return user


def user_preference_set(*, user: User, key: str, value) -> User:
    """Remember a screen preference (for example the columns chosen in "Manage columns")."""
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        locked.preferences = {**locked.preferences, key: value}
        locked.save(update_fields=["preferences"])
    user.preferences = locked.preferences
    return user
