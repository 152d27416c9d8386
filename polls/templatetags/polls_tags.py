"""Small helpers for the poll form: reading back what the resident submitted."""

from django import template

from polls.validation import ranking_places

register = template.Library()


@register.filter
def field_name(question, suffix: str = "") -> str:
    return f"q{question.pk}{suffix}"


@register.simple_tag
def submitted_values(submitted, name: str) -> list[str]:
    """Every value posted under ``name`` (so a re-shown form keeps the resident's answers)."""
    return submitted.getlist(name) if hasattr(submitted, "getlist") else []


@register.simple_tag
def submitted_value(submitted, name: str) -> str:
    return submitted.get(name, "") if submitted else ""


@register.filter
def errors_for(errors: dict, question) -> list[str]:
    return errors.get(question.pk, [])


@register.filter
def as_str(value) -> str:
    return str(value)


@register.simple_tag
def option_field_name(question, part: str, option) -> str:
    """``q<question>_<part>_<option>``: a ranking place or a matrix row of one option."""
    return f"q{question.pk}_{part}_{option.pk}"


@register.filter
def place_numbers(question) -> range:
    return range(1, ranking_places(question) + 1)


@register.simple_tag
def breakdown_share(group, question, option) -> float:
    return group.shares.get(question.pk, {}).get(option.pk, 0.0)
