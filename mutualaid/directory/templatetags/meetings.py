from django import template
from django.utils import dateformat

register = template.Library()


@register.filter
def next_in_viewer(result, zone_name):
    """A result's next start on the viewer's own clock, e.g. 'Mon 30 Nov, 19:30'."""
    start = result.next_start_in(zone_name)
    # Django's date format, so day and month names follow the interface's language.
    return dateformat.format(start, "D j M, H:i") if start else ""
