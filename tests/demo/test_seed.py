from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from customers.models import Customer, CustomerGroup
from customers.selectors import customers_visible_to
from demo import accounts as demo
from demo.seed import DEMO_SEEDERS
from portal.accounts.models import Role

User = get_user_model()


def test_the_accounts_demo_runs_after_the_customers_demo():
    assert DEMO_SEEDERS.index("demo.customers") < DEMO_SEEDERS.index("demo.accounts")


def test_the_demo_seeder_tolerates_no_customers_and_is_idempotent(partner_alpha):
    with schema_context(partner_alpha.schema_name):
        lines = demo.seed(partner_alpha)
        assert any(demo.SUPPORT_PASSWORD in line for line in lines)
        tenant_admin = User.objects.get(email=demo.TENANT_ADMIN_EMAIL)
        assert not tenant_admin.customers.exists()

        Customer.objects.create(name="Zed"), Customer.objects.create(name="Able")
        demo.seed(partner_alpha)
        demo.seed(partner_alpha)

        support = User.objects.get(email=demo.SUPPORT_EMAIL)
        assert support.check_password(demo.SUPPORT_PASSWORD)
        assert [role.name for role in support.roles.all()] == ["Support desk"]
        role = Role.objects.get(name="Support desk")
        assert role.permissions == {"customers": 1, "subscriptions": 2}
        assert [group.name for group in role.customer_groups.all()] == ["Key accounts"]
        assert CustomerGroup.objects.filter(name="Key accounts").count() == 1
        assert sorted(c.name for c in customers_visible_to(user=support)) == ["Able", "Zed"]
        tenant_admin = User.objects.get(email=demo.TENANT_ADMIN_EMAIL)
        assert [c.name for c in tenant_admin.customers.all()] == ["Able"]
        assert User.objects.filter(email__in=[demo.SUPPORT_EMAIL, demo.TENANT_ADMIN_EMAIL]).count() == 2
