"""`{% load wechat %}{% wechat_login_button next %}`: the "Log in with WeChat" button on a
login page, rendered only while WeChat is on (LINLI_WECHAT_APP_ID set)."""

from django import template

from linli.wechat.client import enabled

register = template.Library()


@register.inclusion_tag("wechat/login_button.html")
def wechat_login_button(next_url: str = "") -> dict:
    return {"enabled": enabled(), "next": next_url}


@register.simple_tag
def wechat_enabled() -> bool:
    return enabled()
