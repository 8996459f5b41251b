"""Every page of the console asked for by htmx (`HX-Request`), as the partner's administrator.

A list or report screen swaps its results in place: when its page holds the `#results` element,
an htmx request must answer with that fragment, not the whole page (which would nest a console in
the console), and no page may answer an htmx request with a server error. The URLs come from the
URLconf, with the objects of the access matrix's world.
"""

import re

from django.urls import reverse

from tests.portal.test_access_matrix import PUBLIC_URL_NAMES, console_urls, object_arguments, world  # noqa: F401
from tests.support import signed_in_client

RESULTS = re.compile(r"""id=["']results["']""")


def _walk(client, world, partner):  # noqa: F811
    client.raise_request_exception = False
    problems, fragments = [], 0
    for name, route, arguments in console_urls():
        if name in {"accounts:logout"} or name in PUBLIC_URL_NAMES:
            continue
        path = reverse(name, kwargs=object_arguments(world, name, arguments))
        page = client.get(path)
        swapped = client.get(path, headers={"HX-Request": "true"})
        if swapped.status_code >= 500:
            problems.append(f"{name} ({route}): {swapped.status_code} to an htmx request")
            continue
        if page.status_code != 200 or "text/html" not in page.get("Content-Type", ""):
            continue
        if RESULTS.search(page.content.decode()):
            body = swapped.content.decode()
            if swapped.status_code != 200 or "<html" in body or not RESULTS.search(body):
                problems.append(f"{name} ({route}): the htmx request did not get the #results fragment")
            else:
                fragments += 1
    return problems, fragments


def test_every_page_answers_htmx_with_its_results_fragment(world, partner_alpha):  # noqa: F811
    problems, fragments = _walk(signed_in_client(partner_alpha), world, partner_alpha)
    assert problems == [], "\n".join(problems)
    assert fragments > 10


def test_the_billing_and_custom_reports_answer_htmx_with_a_fragment(partner_alpha):
    client = signed_in_client(partner_alpha)
    for name in ("reports:billing", "reports:custom", "reports:operations"):
        response = client.get(reverse(name), headers={"HX-Request": "true"})
        assert response.status_code == 200, name
        body = response.content.decode()
        assert "<html" not in body and 'id="results"' in body, name
