from django import template

from ..reports import show

register = template.Library()


@register.filter
def figure(value):
    """A table cell: numbers without noise, "*" for hidden, "–" for no figure."""
    return show(value)


@register.simple_tag
def csv_query(request, table_id):
    """This page's query string with csv=<table id> (so the CSV matches what is shown)."""
    params = request.GET.copy()
    params["csv"] = table_id
    return params.urlencode()


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None
