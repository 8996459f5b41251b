import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from portal.audit.choices import AuditResult
from portal.audit.models import AuditEvent, action_label, target_type_label


class AuditEventFilterSet(django_filters.FilterSet):
    """Settings > Audit logs and its CSV export: actor, action, object type, result, date range."""

    actor = django_filters.ModelChoiceFilter(
        label=_("Actor"), queryset=get_user_model().objects.all(), empty_label=_("Anyone")
    )
    action = django_filters.ChoiceFilter(label=_("Action"), empty_label=_("Any action"))
    target_type = django_filters.ChoiceFilter(label=_("Object type"), empty_label=_("Any object type"))
    result = django_filters.ChoiceFilter(label=_("Result"), choices=AuditResult.choices, empty_label=_("Any result"))
    date_from = django_filters.DateFilter(
        label=_("From"), field_name="created", lookup_expr="date__gte", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = django_filters.DateFilter(
        label=_("To"), field_name="created", lookup_expr="date__lte", widget=forms.DateInput(attrs={"type": "date"})
    )

    class Meta:
        model = AuditEvent
        fields = ["actor", "action", "target_type", "result", "date_from", "date_to"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The choices are what the trail holds, so a filter never offers something that matches nothing.
        events = AuditEvent.objects.order_by()
        self.filters["action"].extra["choices"] = [
            (action, action_label(action))
            for action in events.values_list("action", flat=True).distinct().order_by("action")
        ]
        self.filters["target_type"].extra["choices"] = [
            (target_type, target_type_label(target_type) or target_type)
            for target_type in events.exclude(target_type="")
            .values_list("target_type", flat=True)
            .distinct()
            .order_by("target_type")
        ]
