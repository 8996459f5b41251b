"""Partner-host URLs of Microsoft sign-in (completion) and Settings > Authentication."""

app_name = "microsoft"

urlpatterns: list = []
