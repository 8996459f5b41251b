"""The htmx helpers every app's views share: which template a request gets, and which methods an action takes."""

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django_htmx.middleware import HtmxMiddleware

from portal.core.htmx import get_only, partial_for_target, partial_template, post_only, wants_partial

PAGE = "things/thing_list.html"


def _request(method: str = "get", **headers):
    request = getattr(RequestFactory(), method)("/things/", headers=headers)
    HtmxMiddleware(lambda request: HttpResponse())(request)
    return request


def test_a_normal_request_gets_the_page():
    request = _request()
    assert not wants_partial(request)
    assert partial_template(request, PAGE, "results") == PAGE


def test_an_htmx_request_gets_the_named_partial():
    request = _request(HX_Request="true")
    assert wants_partial(request)
    assert partial_template(request, PAGE, "results") == f"{PAGE}#results"


def test_a_boosted_request_gets_the_page():
    request = _request(HX_Request="true", HX_Boosted="true")
    assert partial_template(request, PAGE, "results") == PAGE


def test_the_target_picks_the_partial():
    partials = {"pools-results": "pools_results", "customers-results": "customers_results"}
    assert partial_for_target(_request(HX_Request="true", HX_Target="pools-results"), PAGE, partials) == (
        f"{PAGE}#pools_results"
    )
    assert partial_for_target(_request(HX_Request="true", HX_Target="elsewhere"), PAGE, partials) == PAGE
    assert partial_for_target(_request(HX_Request="true"), PAGE, partials, default="tab") == f"{PAGE}#tab"
    assert partial_for_target(_request(HX_Target="pools-results"), PAGE, partials) == PAGE


@pytest.mark.parametrize(("method", "refused"), [("post", False), ("get", True), ("put", True)])
def test_post_only(method, refused):
    response = post_only(_request(method))
    assert (response is not None) is refused
    if refused:
        assert response.status_code == 405
        assert response["Allow"] == "POST"


@pytest.mark.parametrize(("method", "refused"), [("get", False), ("head", False), ("post", True)])
def test_get_only(method, refused):
    response = get_only(_request(method))
    assert (response is not None) is refused
    if refused:
        assert response.status_code == 405
        assert response["Allow"] == "GET"
