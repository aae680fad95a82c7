from django import template
from django.utils.html import format_html

from linli.idempotency.web import FIELD_NAME, once_token_new

register = template.Library()


@register.simple_tag
def once_token() -> str:
    """A hidden one-time token for a form whose view is decorated with `@once_per_form`."""
    return format_html('<input type="hidden" name="{}" value="{}">', FIELD_NAME, once_token_new())
