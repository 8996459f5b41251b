"""The demo partner's orders: every status, a cart and a quote; seeding twice adds nothing."""

from django.test import override_settings

from demo import accounts as accounts_demo
from demo import catalog as catalog_demo
from demo import customers as customers_demo
from demo import marketplace as marketplace_demo
from demo import orders as orders_demo
from orders.choices import OrderLineStatus, OrderStatus
from orders.models import Order, OrderLine, Quote


@override_settings(ALSO_SIMULATOR_URL="")
def test_the_demo_has_orders_in_every_status_a_cart_and_a_quote(in_alpha, django_capture_on_commit_callbacks):
    customers_demo.seed(in_alpha)
    accounts_demo.seed(in_alpha)
    marketplace_demo.seed(in_alpha)
    catalog_demo.seed(in_alpha)

    with django_capture_on_commit_callbacks(execute=False):  # the worker of the run command is not running
        lines = orders_demo.seed(in_alpha)

    by_po = {order.po_number: order for order in Order.objects.all()}
    assert by_po["DEMO-COMPLETED"].status == OrderStatus.COMPLETED
    assert by_po["DEMO-FAILED"].status == OrderStatus.FAILED
    refused = OrderLine.objects.get(order=by_po["DEMO-FAILED"], status=OrderLineStatus.FAILED)
    assert "between 1 and 300" in refused.error_message
    assert by_po["DEMO-SUBMITTED"].status == OrderStatus.SUBMITTED
    assert by_po["DEMO-PROVISIONING"].status == OrderStatus.PROVISIONING
    assert by_po["DEMO-CANCELLED"].status == OrderStatus.CANCELLED
    assert by_po["DEMO-CART"].status == OrderStatus.DRAFT
    assert Quote.objects.get().order == by_po["DEMO-QUOTE"]
    assert "new: completed, failed, submitted, provisioning, cancelled, cart, quote" in lines[0]

    with django_capture_on_commit_callbacks(execute=False):
        again = orders_demo.seed(in_alpha)

    assert Order.objects.count() == len(by_po)
    assert "nothing new" in again[0]
