from django import template

register = template.Library()


@register.filter
def next_in_viewer(result, zone_name):
    """A result's next start on the viewer's own clock, e.g. 'Mon 30 Nov, 19:30'."""
    start = result.next_start_in(zone_name)
    return start.strftime("%a %-d %b, %H:%M") if start else ""
