from django import template

register = template.Library()


@register.filter
def stars(value) -> str:
    """★★★★☆ for 4 (or 3.5 and above); decorative: pages give the number in words too."""
    full = 0 if value is None else round(float(value))
    return "★" * full + "☆" * (5 - full)
