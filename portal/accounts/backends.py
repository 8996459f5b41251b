from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest


class UsernameOrEmailBackend(ModelBackend):
    """Signs a user in with either the username or the email address (case-insensitive)."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs
    ):
        if username is None or password is None:
            return None
        user_model = get_user_model()
        identifier = username.strip()
        lookup = {"email__iexact": identifier} if "@" in identifier else {"username__iexact": identifier}
        user = user_model._default_manager.filter(**lookup).first()
        if user is None:
            # Run the hasher anyway so a missing user takes as long as a wrong password.
            user_model().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
