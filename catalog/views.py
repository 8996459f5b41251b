"""Catalog screens: the public catalog, the partner's catalog and offer pages, Customize, customer
segments, customer prices and a customer tenant's store. Views stay thin."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_tables2 import RequestConfig

from catalog import selectors, services
from catalog.filters import CatalogFilterSet, CustomerPriceFilterSet, OfferFilterSet
from catalog.forms import (
    CategoryForm,
    DefaultMarkupForm,
    OfferCustomizeForm,
    OfferVisibilityForm,
    PriceApplicationForm,
    PriceRuleForm,
    ProductGroupForm,
    SegmentForm,
    SegmentMemberForm,
)
from catalog.models import Category, CustomerSegment, ProductGroup
from catalog.pricing import customer_price_rows_resolve, prices_resolve
from catalog.services import CatalogActionRefused
from catalog.tables import CustomerPriceTable, SegmentTable, offer_table
from customers.selectors import customer_tenants_visible_to, customers_visible_to
from portal.accounts.choices import AccessLevel, PermissionModule, UserKind
from portal.accounts.permissions import permission_required, user_has_permission, user_sees_cost_prices
from portal.audit.selectors import audit_events_for_object
from portal.core.htmx import partial_template

CATALOG = PermissionModule.CATALOG
SUBSCRIPTIONS = PermissionModule.SUBSCRIPTIONS
VIEW = AccessLevel.VIEW
MANAGE = AccessLevel.MANAGE
PER_PAGE = 25
STORE_TABS = ("basics", "dependent", "cost", "audit")


def _can_manage(user) -> bool:
    """Changing the catalog and prices is the partner's: never a customer tenant admin's (their ceiling
    stops at view anyway)."""
    return user.kind == UserKind.PARTNER and user_has_permission(user, CATALOG, MANAGE)


def _only_customer(user):
    """The one customer a customer tenant admin is bound to (their prices apply), else None."""
    if user.kind != UserKind.CUSTOMER_ADMIN:
        return None
    customers = list(customers_visible_to(user=user)[:2])
    return customers[0] if len(customers) == 1 else None


def _refused(form, error: CatalogActionRefused) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


def _next_url(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


# -- public catalog (no sign-in) -------------------------------------------------------------------------------------


def _public_offers():
    return selectors.offers_one_per_plan(selectors.offers_visible())


@require_GET
def public_index(request: HttpRequest) -> HttpResponse:
    """The public catalog: categories and their product groups, and a search, for visitors. No partner prices."""
    offers = _public_offers()
    filterset = CatalogFilterSet(request.GET or None, queryset=offers)
    tree = selectors.catalog_tree(offers=offers)
    results = None
    if filterset.is_filtered:
        results = Paginator(filterset.qs.filter(is_add_on=False), PER_PAGE).get_page(request.GET.get("page"))
    context = {"filterset": filterset, "tree": tree, "results": results}
    return render(request, partial_template(request, "catalog/public_index.html", "results"), context)


@require_GET
def public_group(request: HttpRequest, pk: int) -> HttpResponse:
    offers = _public_offers()
    group = get_object_or_404(ProductGroup.objects.select_related("category").filter(is_visible=True), pk=pk)
    page = Paginator(offers.filter(product_group=group), PER_PAGE).get_page(request.GET.get("page"))
    context = {"group": group, "page": page, "tree": selectors.catalog_tree(offers=offers)}
    return render(request, "catalog/public_group.html", context)


@require_GET
def public_offer(request: HttpRequest, pk: int) -> HttpResponse:
    offers = _public_offers()
    offer = get_object_or_404(selectors.offers_visible(), pk=pk)  # any account's offer of a plan opens
    context = {
        "offer": offer,
        "family": selectors.offer_family(offer=offer, offers=offers),
        "signed_in_catalog": request.user.is_authenticated and user_has_permission(request.user, CATALOG),
    }
    return render(request, "catalog/public_offer.html", context)


# -- the partner's catalog -------------------------------------------------------------------------------------------


@permission_required(CATALOG, VIEW)
@require_GET
def catalog_index(request: HttpRequest) -> HttpResponse:
    user = request.user
    customer = _only_customer(user)
    if user.kind == UserKind.CUSTOMER_ADMIN:
        offers = (
            selectors.offers_orderable_by(customer=customer) if customer is not None else selectors.offers_visible()
        )
    else:
        offers = selectors.offers_all()
    filterset = OfferFilterSet(request.GET, queryset=offers)  # bound: the default hides unavailable offers
    can_manage = _can_manage(user)
    sees_cost = user_sees_cost_prices(user)
    # a customer tenant admin of several customers has no one price: their prices are in each tenant's store
    show_price = user.kind == UserKind.PARTNER or customer is not None
    table = offer_table(
        filterset.qs,
        is_partner=user.kind == UserKind.PARTNER,
        can_manage=can_manage,
        sees_cost=sees_cost,
        show_price=show_price,
        derivation=sees_cost,
        request=request,
    )
    RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(table)
    if show_price:
        table.prices = prices_resolve(offers=[row.record for row in table.paginated_rows], customer=customer)
    context = {
        "filterset": filterset,
        "table": table,
        "tree": selectors.catalog_tree(offers=offers.filter(is_available=True)),
        "can_manage": can_manage,
        "is_partner": user.kind == UserKind.PARTNER,
        "settings": selectors.catalog_settings(),
        "visibility_form": OfferVisibilityForm(),
    }
    return render(request, partial_template(request, "catalog/catalog_index.html", "results"), context)


def _offer_for(user, pk: int):
    if user.kind == UserKind.CUSTOMER_ADMIN:
        customer = _only_customer(user)
        offers = selectors.offers_orderable_by(customer=customer) if customer else selectors.offers_visible()
        return get_object_or_404(offers, pk=pk), offers, customer
    return get_object_or_404(selectors.offers_all(), pk=pk), selectors.offers_all(), None


@permission_required(CATALOG, VIEW)
@require_GET
def offer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    offer, offers, customer = _offer_for(request.user, pk)
    family = selectors.offer_family(offer=offer, offers=offers)
    related = {item.pk: item for item in (*family.plans, *family.add_ons, *family.required)}
    prices = prices_resolve(offers=related.values(), customer=customer)
    sees_cost = user_sees_cost_prices(request.user)
    context = {
        "offer": offer,
        "family": family,
        "prices": prices,
        "price": prices.get(offer.pk),
        "show_price": request.user.kind == UserKind.PARTNER or customer is not None,
        "sees_cost": sees_cost,
        "can_manage": _can_manage(request.user),
        "can_order": offer.is_available and user_has_permission(request.user, SUBSCRIPTIONS, MANAGE),
        "events": selectors.offer_audit_events(offer=offer) if request.user.kind == UserKind.PARTNER else [],
    }
    return render(request, "catalog/offer_detail.html", context)


@permission_required(CATALOG, MANAGE)
@require_http_methods(["GET", "POST"])
def offer_customize_view(request: HttpRequest, pk: int) -> HttpResponse:
    offer, _offers, _customer = _offer_for(request.user, pk)
    _manage_only(request)
    initial = {"is_visible": offer.is_visible, "eligibility": offer.eligibility, "product_group": offer.product_group}
    form = OfferCustomizeForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.offer_customize(
                    actor=request.user,
                    offer=offer,
                    is_visible=form.cleaned_data["is_visible"],
                    eligibility=form.cleaned_data["eligibility"] or "",
                    product_group=form.cleaned_data["product_group"],
                )
            except CatalogActionRefused as error:
                _refused(form, error)
            else:
                messages.success(request, _("%(offer)s was saved.") % {"offer": offer.name})
                return redirect("catalog:offer_detail", pk=offer.pk)
        messages.error(request, _("Nothing was saved. Correct the fields marked below."))
    return render(request, "catalog/offer_customize.html", {"offer": offer, "form": form})


@permission_required(CATALOG, MANAGE)
@require_POST
def offers_visibility(request: HttpRequest) -> HttpResponse:
    """Show or hide the selected offers of the catalog list."""
    ids = [value for value in request.POST.getlist("offers") if value.isdigit()]
    form = OfferVisibilityForm(request.POST, offer_ids=[int(value) for value in ids])
    back = _next_url(request, reverse("catalog:index"))
    _manage_only(request)
    if not form.is_valid():
        messages.error(request, _("Select the offers to show or hide first."))
        return redirect(back)
    changed = services.offers_visibility_set(
        actor=request.user, offer_ids=form.cleaned_data["offers"], is_visible=form.cleaned_data["is_visible"]
    )
    if form.cleaned_data["is_visible"]:
        messages.success(request, _("%(count)s offers are now shown to customers.") % {"count": changed})
    else:
        messages.success(request, _("%(count)s offers are now hidden from customers.") % {"count": changed})
    return redirect(back)


# -- Catalog > Customize ---------------------------------------------------------------------------------------------


@permission_required(CATALOG, VIEW)
@require_http_methods(["GET", "POST"])
def customize(request: HttpRequest) -> HttpResponse:
    """The default markup, the categories and product groups, and whether each group is shown."""
    if request.user.kind != UserKind.PARTNER:
        raise PermissionDenied
    settings = selectors.catalog_settings()
    can_manage = _can_manage(request.user)
    form = DefaultMarkupForm(
        request.POST or None,
        initial={
            "default_markup_percent": settings.default_markup_percent.normalize(),
            "large_quantity_seats": settings.large_quantity_seats,
        },
    )
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.catalog_settings_update(
                    actor=request.user,
                    default_markup_percent=form.cleaned_data["default_markup_percent"],
                    apply=form.price_apply(),
                    large_quantity_seats=form.cleaned_data["large_quantity_seats"],
                )
            except CatalogActionRefused as error:
                _refused(form, error)
            else:
                messages.success(request, _("The default markup was saved."))
                return redirect("catalog:customize")
        messages.error(request, _("The default markup was not saved. Correct the field marked below."))
    context = {
        "form": form,
        "settings": settings,
        "can_manage": can_manage,
        "categories": selectors.categories_for_customize(),
        "groups": selectors.product_groups_for_customize(),
        "unplaced": selectors.offers_unplaced_count(),
    }
    return render(request, "catalog/customize.html", context)


@permission_required(CATALOG, MANAGE)
@require_POST
def offers_classify_view(request: HttpRequest) -> HttpResponse:
    _manage_only(request)
    services.default_categories_ensure()
    count = services.offers_classify(actor=request.user)
    messages.success(request, _("%(count)s offers were placed in product groups.") % {"count": count})
    return redirect("catalog:customize")


def _manage_only(request: HttpRequest) -> None:
    if not _can_manage(request.user):
        raise PermissionDenied


@permission_required(CATALOG, MANAGE)
@require_http_methods(["GET", "POST"])
def category_form_view(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    category = get_object_or_404(Category, pk=pk) if pk is not None else None
    _manage_only(request)
    form = CategoryForm(request.POST or None, instance=category)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                if category is None:
                    category = services.category_create(
                        actor=request.user,
                        name=data["name"],
                        description=data["description"],
                        position=data["position"],
                    )
                else:
                    services.category_update(
                        actor=request.user,
                        category=category,
                        name=data["name"],
                        description=data["description"],
                        position=data["position"],
                    )
            except CatalogActionRefused as error:
                _refused(form, error)
            else:
                messages.success(request, _("Category %(name)s was saved.") % {"name": category.name})
                return redirect("catalog:customize")
        messages.error(request, _("Nothing was saved. Correct the fields marked below."))
    title = _("Edit category") if pk is not None else _("New category")
    return render(request, "catalog/form.html", {"form": form, "title": title, "back": reverse("catalog:customize")})


@permission_required(CATALOG, MANAGE)
@require_http_methods(["GET", "POST"])
def category_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    category = get_object_or_404(Category, pk=pk)
    _manage_only(request)
    if request.method == "POST":
        services.category_delete(actor=request.user, category=category)
        messages.success(request, _("Category %(name)s was deleted.") % {"name": category.name})
        return redirect("catalog:customize")
    context = {
        "title": _("Delete category %(name)s?") % {"name": category.name},
        "message": _("Its product groups stay and show under Other until you give them a category."),
        "button": _("Delete category"),
        "back": reverse("catalog:customize"),
    }
    return render(request, "catalog/confirm.html", context)


@permission_required(CATALOG, MANAGE)
@require_http_methods(["GET", "POST"])
def product_group_form_view(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    group = get_object_or_404(ProductGroup, pk=pk) if pk is not None else None
    _manage_only(request)
    form = ProductGroupForm(request.POST or None, instance=group)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            fields = {
                "name": data["name"],
                "category": data["category"],
                "description": data["description"],
                "is_visible": data["is_visible"],
                "position": data["position"],
            }
            try:
                if group is None:
                    group = services.product_group_create(actor=request.user, **fields)
                else:
                    services.product_group_update(actor=request.user, group=group, **fields)
            except CatalogActionRefused as error:
                _refused(form, error)
            else:
                messages.success(request, _("Product group %(name)s was saved.") % {"name": group.name})
                return redirect("catalog:customize")
        messages.error(request, _("Nothing was saved. Correct the fields marked below."))
    title = _("Edit product group") if pk is not None else _("New product group")
    return render(request, "catalog/form.html", {"form": form, "title": title, "back": reverse("catalog:customize")})


# -- customer segments -----------------------------------------------------------------------------------------------


@permission_required(CATALOG, VIEW)
@require_GET
def segment_list(request: HttpRequest) -> HttpResponse:
    if request.user.kind != UserKind.PARTNER:
        raise PermissionDenied
    table = SegmentTable(selectors.segments_for_list(), request=request)
    RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(table)
    return render(
        request,
        partial_template(request, "catalog/segment_list.html", "results"),
        {"table": table, "can_manage": _can_manage(request.user)},
    )


def _segment_for(request: HttpRequest, pk: int) -> CustomerSegment:
    if request.user.kind != UserKind.PARTNER:
        raise Http404
    return get_object_or_404(CustomerSegment, pk=pk)


@permission_required(CATALOG, MANAGE)
@require_http_methods(["GET", "POST"])
def segment_form_view(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    segment = _segment_for(request, pk) if pk is not None else None
    _manage_only(request)
    form = SegmentForm(request.POST or None, instance=segment)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                if segment is None:
                    segment = services.segment_create(
                        actor=request.user, name=data["name"], description=data["description"]
                    )
                else:
                    services.segment_update(
                        actor=request.user, segment=segment, name=data["name"], description=data["description"]
                    )
            except CatalogActionRefused as error:
                _refused(form, error)
            else:
                messages.success(request, _("Segment %(name)s was saved.") % {"name": segment.name})
                return redirect("catalog:segment_detail", pk=segment.pk)
        messages.error(request, _("Nothing was saved. Correct the fields marked below."))
    back = reverse("catalog:segment_detail", args=[pk]) if pk is not None else reverse("catalog:segment_list")
    title = _("Edit segment") if pk is not None else _("New customer segment")
    return render(request, "catalog/form.html", {"form": form, "title": title, "back": back})


@permission_required(CATALOG, VIEW)
@require_GET
def segment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    segment = _segment_for(request, pk)
    members = list(selectors.segment_members_visible_to(user=request.user, segment=segment))
    prices = list(selectors.segment_prices_of(segment=segment))
    resolved = prices_resolve(offers=[row.offer for row in prices])
    context = {
        "segment": segment,
        "members": members,
        "hidden_members": segment.memberships.count() - len(members),
        "prices": prices,
        "partner_prices": resolved,
        "can_manage": _can_manage(request.user),
        "member_form": SegmentMemberForm(customers=selectors.customers_for_segment_add(user=request.user)),
        "events": list(audit_events_for_object(target=segment).order_by("-created", "-pk")[:50]),
    }
    return render(request, "catalog/segment_detail.html", context)


@permission_required(CATALOG, MANAGE)
@require_http_methods(["GET", "POST"])
def segment_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    segment = _segment_for(request, pk)
    _manage_only(request)
    if request.method == "POST":
        services.segment_delete(actor=request.user, segment=segment)
        messages.success(request, _("Segment %(name)s was deleted.") % {"name": segment.name})
        return redirect("catalog:segment_list")
    context = {
        "title": _("Delete segment %(name)s?") % {"name": segment.name},
        "message": _("Its customers pay the partner price again, or their own customer prices."),
        "button": _("Delete segment"),
        "back": reverse("catalog:segment_detail", args=[segment.pk]),
    }
    return render(request, "catalog/confirm.html", context)


@permission_required(CATALOG, MANAGE)
@require_POST
def segment_member_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    segment = _segment_for(request, pk)
    _manage_only(request)
    form = SegmentMemberForm(request.POST, customers=selectors.customers_for_segment_add(user=request.user))
    if form.is_valid():
        customer = form.cleaned_data["customer"]
        try:
            services.segment_member_add(actor=request.user, segment=segment, customer=customer)
        except CatalogActionRefused as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("%(customer)s joined the segment.") % {"customer": customer.name})
    else:
        messages.error(request, _("Choose a customer that is in no segment yet."))
    return redirect("catalog:segment_detail", pk=segment.pk)


@permission_required(CATALOG, VIEW)
@require_http_methods(["GET", "POST"])
def segment_member_remove_view(request: HttpRequest, pk: int, member_pk: int) -> HttpResponse:
    segment = _segment_for(request, pk)
    membership = get_object_or_404(
        selectors.segment_members_visible_to(user=request.user, segment=segment), pk=member_pk
    )
    _manage_only(request)
    if request.method == "POST":
        services.segment_member_remove(actor=request.user, membership=membership)
        messages.success(request, _("%(customer)s left the segment.") % {"customer": membership.customer.name})
        return redirect("catalog:segment_detail", pk=segment.pk)
    context = {
        "title": _("Remove %(customer)s from %(segment)s?")
        % {"customer": membership.customer.name, "segment": segment.name},
        "message": _("The customer pays the partner price again, unless it has its own customer prices."),
        "button": _("Remove from segment"),
        "back": reverse("catalog:segment_detail", args=[segment.pk]),
    }
    return render(request, "catalog/confirm.html", context)


def _price_form_page(request, *, title: str, form, back: str, offer=None) -> HttpResponse:
    return render(request, "catalog/price_form.html", {"form": form, "title": title, "back": back, "offer": offer})


@permission_required(CATALOG, MANAGE)
@require_http_methods(["GET", "POST"])
def segment_price_form_view(request: HttpRequest, pk: int, price_pk: int | None = None) -> HttpResponse:
    segment = _segment_for(request, pk)
    row = get_object_or_404(segment.prices.select_related("offer"), pk=price_pk) if price_pk is not None else None
    _manage_only(request)
    initial = PriceRuleForm.initial_for(row) if row else {"offer": request.GET.get("offer")}
    form = PriceRuleForm(
        request.POST or None, initial=initial, offers=selectors.offers_for_pricing(), fixed_offer=row is not None
    )
    back = reverse("catalog:segment_detail", args=[segment.pk])
    if request.method == "POST":
        if form.is_valid():
            try:
                services.segment_price_set(
                    actor=request.user,
                    segment=segment,
                    offer=form.cleaned_data["offer"],
                    apply=form.price_apply(),
                    **form.rule(),
                )
            except CatalogActionRefused as error:
                _refused(form, error)
            else:
                messages.success(request, _("The segment price was saved."))
                return redirect(back)
        messages.error(request, _("The price was not saved. Correct the fields marked below."))
    title = _("Segment price: %(segment)s") % {"segment": segment.name}
    return _price_form_page(request, title=title, form=form, back=back, offer=row.offer if row else None)


@permission_required(CATALOG, MANAGE)
@require_http_methods(["GET", "POST"])
def segment_price_delete_view(request: HttpRequest, pk: int, price_pk: int) -> HttpResponse:
    segment = _segment_for(request, pk)
    row = get_object_or_404(segment.prices.select_related("offer", "segment"), pk=price_pk)
    _manage_only(request)
    back = reverse("catalog:segment_detail", args=[segment.pk])
    form = PriceApplicationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.segment_price_delete(actor=request.user, segment_price=row, apply=form.price_apply())
        messages.success(request, _("The segment price of %(offer)s was deleted.") % {"offer": row.offer.name})
        return redirect(back)
    context = {
        "form": form,
        "title": _("Delete the segment price of %(offer)s?") % {"offer": row.offer},
        "message": _("The segment's customers pay the partner price for this offer again."),
        "button": _("Delete price"),
        "back": back,
    }
    return render(request, "catalog/confirm.html", context)


# -- customer prices -------------------------------------------------------------------------------------------------


@permission_required(CATALOG, VIEW)
@require_GET
def customer_price_list(request: HttpRequest) -> HttpResponse:
    if request.user.kind != UserKind.PARTNER:
        raise PermissionDenied
    rows = selectors.customer_prices_visible_to(user=request.user)
    customers = customers_visible_to(user=request.user).filter(catalog_prices__isnull=False).distinct()
    filterset = CustomerPriceFilterSet(request.GET or None, queryset=rows, customers=customers)
    can_manage = _can_manage(request.user)
    table = CustomerPriceTable(
        filterset.qs, request=request, can_manage=can_manage, derivation=user_sees_cost_prices(request.user)
    )
    RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(table)
    table.prices = customer_price_rows_resolve(rows=[row.record for row in table.paginated_rows])
    context = {"filterset": filterset, "table": table, "can_manage": can_manage}
    return render(request, partial_template(request, "catalog/customer_price_list.html", "results"), context)


@permission_required(CATALOG, VIEW)
@require_http_methods(["GET", "POST"])
def customer_price_form_view(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    row = get_object_or_404(selectors.customer_prices_visible_to(user=request.user), pk=pk) if pk else None
    _manage_only(request)
    if row is not None:
        initial = PriceRuleForm.initial_for(row)
    else:
        initial = {"offer": request.GET.get("offer"), "customer": request.GET.get("customer")}
    form = PriceRuleForm(
        request.POST or None,
        initial=initial,
        offers=selectors.offers_for_pricing(),
        customers=None if row else customers_visible_to(user=request.user).order_by("name", "pk"),
        fixed_offer=row is not None,
    )
    back = reverse("catalog:customer_price_list")
    if request.method == "POST":
        if form.is_valid():
            try:
                if row is None:
                    services.customer_price_set(
                        actor=request.user,
                        customer=form.cleaned_data["customer"],
                        offer=form.cleaned_data["offer"],
                        apply=form.price_apply(),
                        **form.rule(),
                    )
                else:
                    services.customer_price_update(
                        actor=request.user, customer_price=row, apply=form.price_apply(), **form.rule()
                    )
            except CatalogActionRefused as error:
                _refused(form, error)
            else:
                messages.success(request, _("The customer price was saved."))
                return redirect(back)
        messages.error(request, _("The price was not saved. Correct the fields marked below."))
    if row is not None:
        title = _("Customer price: %(customer)s") % {"customer": row.customer.name}
    else:
        title = _("New customer price")
    return _price_form_page(request, title=title, form=form, back=back, offer=row.offer if row else None)


@permission_required(CATALOG, VIEW)
@require_http_methods(["GET", "POST"])
def customer_price_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(selectors.customer_prices_visible_to(user=request.user), pk=pk)
    _manage_only(request)
    form = PriceApplicationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.customer_price_delete(actor=request.user, customer_price=row, apply=form.price_apply())
        messages.success(request, _("The customer price was deleted."))
        return redirect("catalog:customer_price_list")
    context = {
        "form": form,
        "title": _("Delete the price of %(offer)s for %(customer)s?")
        % {"offer": row.offer, "customer": row.customer.name},
        "message": _("The customer pays its segment price or the partner price for this offer again."),
        "button": _("Delete price"),
        "back": reverse("catalog:customer_price_list"),
    }
    return render(request, "catalog/confirm.html", context)


# -- a customer tenant's store: the offers a customer may buy -------------------------------------------------------


def _store_context(request: HttpRequest, tenant_pk: int) -> dict:
    tenant = get_object_or_404(customer_tenant_visible_to_store(request.user), pk=tenant_pk)
    from marketplace.models import TenantConnection

    connections = list(
        TenantConnection.objects.filter(customer_tenant=tenant, account__isnull=False).select_related("account")
    )
    return {
        "tenant": tenant,
        "customer": tenant.customer,
        "connections": connections,
        "can_purchase": user_has_permission(request.user, SUBSCRIPTIONS, MANAGE),
        "sees_cost": user_sees_cost_prices(request.user),
    }


def customer_tenant_visible_to_store(user):
    return customer_tenants_visible_to(user=user).select_related("customer")


@permission_required(SUBSCRIPTIONS, VIEW)
@require_GET
def store(request: HttpRequest, tenant_pk: int) -> HttpResponse:
    """The services this tenant may buy at the marketplaces it is connected to, by product."""
    context = _store_context(request, tenant_pk)
    tenant = context["tenant"]
    offers = selectors.offers_orderable_by(customer=tenant.customer, tenant=tenant, include_add_ons=False)
    filterset = CatalogFilterSet(request.GET or None, queryset=offers)
    page = Paginator(selectors.store_products(offers=filterset.qs), PER_PAGE).get_page(request.GET.get("page"))
    products = selectors.store_page_products(offers=filterset.qs, rows=list(page.object_list))
    prices = prices_resolve(offers=[plan for product in products for plan in product.plans], customer=tenant.customer)
    context.update({"filterset": filterset, "page": page, "products": products, "prices": prices})
    return render(request, partial_template(request, "catalog/store.html", "results"), context)


@permission_required(SUBSCRIPTIONS, VIEW)
@require_GET
def store_offer(request: HttpRequest, tenant_pk: int, offer_pk: int) -> HttpResponse:
    """Service details: Basics, Dependent products, Service cost (plans and prices), Audit logs."""
    context = _store_context(request, tenant_pk)
    tenant = context["tenant"]
    offers = selectors.offers_orderable_by(customer=tenant.customer, tenant=tenant)
    offer = get_object_or_404(offers, pk=offer_pk)
    family = selectors.offer_family(offer=offer, offers=offers)
    tab = request.GET.get("tab") if request.GET.get("tab") in STORE_TABS else "basics"
    related = {item.pk: item for item in (*family.plans, *family.add_ons, *family.required)}
    context.update(
        {
            "offer": offer,
            "family": family,
            "tab": tab,
            "prices": prices_resolve(offers=related.values(), customer=tenant.customer) if tab == "cost" else {},
            "events": selectors.offer_audit_events(offer=offer, customer=tenant.customer) if tab == "audit" else [],
        }
    )
    return render(request, partial_template(request, "catalog/store_offer.html", "tab"), context)
