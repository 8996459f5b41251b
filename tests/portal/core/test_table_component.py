"""The one table component (`core/partials/table.html`): sortable headers and pages that keep the query
string, swapped by htmx into the list's results element."""

import django_tables2 as tables
from django.template.loader import render_to_string
from django.test import RequestFactory
from django_tables2 import RequestConfig


class Row:
    def __init__(self, pk: int) -> None:
        self.pk = pk
        self.name = f"Thing {pk:02d}"


class ThingTable(tables.Table):
    name = tables.Column(verbose_name="Name")
    actions = tables.Column(verbose_name="", accessor="pk", orderable=False, attrs={"td": {"class": "text-end"}})

    class Meta:
        attrs = {"class": "table table-hover align-middle mb-0"}


def _render(query: str = "", **context) -> str:
    request = RequestFactory().get(f"/things/{query}")
    table = ThingTable([Row(pk) for pk in range(1, 31)])
    RequestConfig(request, paginate={"per_page": 10}).configure(table)
    return render_to_string(
        "core/partials/table.html",
        {"table": table, "list_url": "/things/", "testid": "thing-table", **context},
        request=request,
    )


def test_rows_headers_and_cells():
    html = _render("?q=x")
    assert 'data-testid="thing-table"' in html
    assert 'class="table table-hover align-middle mb-0"' in html
    assert html.count('data-row="') == 10
    assert 'data-row="1"' in html and 'data-row="11"' not in html
    assert "Thing 01" in html and "Thing 11" not in html
    assert '<td class="text-end">1</td>' in html  # the column's own cell attributes
    assert 'data-column="name"' in html
    assert 'href="/things/?q=x&amp;sort=name"' in html  # sorting keeps the query, drops the page
    assert 'hx-target="#results"' in html


def test_full_pagination_numbers_every_page():
    html = _render("?page=2", target="#pools-results", row_attribute="thing")
    assert "Page 2 of 3" in html
    assert 'data-thing="11"' in html and "data-row=" not in html
    assert 'hx-target="#pools-results"' in html and 'hx-target="#results"' not in html
    assert 'aria-current="page">2</a>' in html
    assert 'href="/things/?page=3"' in html
    assert 'aria-label="Previous"' in html and 'aria-label="Next"' in html
    assert "pagination-sm" not in html


def test_compact_pagination_has_previous_and_next_only():
    html = _render("?page=2", compact=True)
    assert "pagination-sm" in html
    assert ">Previous</a>" in html and ">Next</a>" in html
    assert 'aria-current="page"' not in html


def test_one_page_has_no_pagination():
    request = RequestFactory().get("/things/")
    table = ThingTable([Row(1)])
    RequestConfig(request, paginate={"per_page": 10}).configure(table)
    html = render_to_string(
        "core/partials/table.html", {"table": table, "list_url": "/things/", "testid": "t"}, request=request
    )
    assert "pagination" not in html
