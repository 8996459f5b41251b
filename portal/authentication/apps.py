from django.apps import AppConfig


class AuthenticationConfig(AppConfig):
    name = "portal.authentication"
    label = "authentication"
    verbose_name = "Sign-in methods"
