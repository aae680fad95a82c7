"""`{% load privacy %}{{ text|mask_numbers }}`: free text typed by staff, shown to someone
who may not read the phone and ID numbers in it (linli.accounts.privacy)."""

from django import template

from linli.accounts.privacy import mask_numbers_in_text

register = template.Library()


@register.filter
def mask_numbers(value) -> str:
    return mask_numbers_in_text("" if value is None else str(value))
