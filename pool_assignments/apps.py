from django.apps import AppConfig


class PoolAssignmentsConfig(AppConfig):
    name = "pool_assignments"
    label = "pool_assignments"
    verbose_name = "Pool assignments"
