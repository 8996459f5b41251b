from django.urls import path

from catalog import views

app_name = "catalog"

urlpatterns = [
    # public: visitors who are not signed in (listed in the access matrix's PUBLIC_URL_NAMES)
    path("public/", views.public_index, name="public_index"),
    path("public/groups/<int:pk>/", views.public_group, name="public_group"),
    path("public/offers/<int:pk>/", views.public_offer, name="public_offer"),
    # the partner's catalog
    path("", views.catalog_index, name="index"),
    path("offers/<int:pk>/", views.offer_detail, name="offer_detail"),
    path("offers/<int:pk>/customize/", views.offer_customize_view, name="offer_customize"),
    path("offers/visibility/", views.offers_visibility, name="offers_visibility"),
    # Catalog > Customize
    path("customize/", views.customize, name="customize"),
    path("customize/classify/", views.offers_classify_view, name="offers_classify"),
    path("customize/categories/new/", views.category_form_view, name="category_create"),
    path("customize/categories/<int:pk>/", views.category_form_view, name="category_edit"),
    path("customize/categories/<int:pk>/delete/", views.category_delete_view, name="category_delete"),
    path("customize/groups/new/", views.product_group_form_view, name="group_create"),
    path("customize/groups/<int:pk>/", views.product_group_form_view, name="group_edit"),
    # customer segments
    path("segments/", views.segment_list, name="segment_list"),
    path("segments/new/", views.segment_form_view, name="segment_create"),
    path("segments/<int:pk>/", views.segment_detail, name="segment_detail"),
    path("segments/<int:pk>/edit/", views.segment_form_view, name="segment_edit"),
    path("segments/<int:pk>/delete/", views.segment_delete_view, name="segment_delete"),
    path("segments/<int:pk>/members/add/", views.segment_member_add_view, name="segment_member_add"),
    path(
        "segments/<int:pk>/members/<int:member_pk>/remove/",
        views.segment_member_remove_view,
        name="segment_member_remove",
    ),
    path("segments/<int:pk>/prices/new/", views.segment_price_form_view, name="segment_price_create"),
    path("segments/<int:pk>/prices/<int:price_pk>/", views.segment_price_form_view, name="segment_price_edit"),
    path(
        "segments/<int:pk>/prices/<int:price_pk>/delete/",
        views.segment_price_delete_view,
        name="segment_price_delete",
    ),
    # customer prices
    path("customer-prices/", views.customer_price_list, name="customer_price_list"),
    path("customer-prices/new/", views.customer_price_form_view, name="customer_price_create"),
    path("customer-prices/<int:pk>/", views.customer_price_form_view, name="customer_price_edit"),
    path("customer-prices/<int:pk>/delete/", views.customer_price_delete_view, name="customer_price_delete"),
    # a customer tenant's store: the offers that customer may buy, at its prices
    path("store/<int:tenant_pk>/", views.store, name="store"),
    path("store/<int:tenant_pk>/offers/<int:offer_pk>/", views.store_offer, name="store_offer"),
]
