"""Which WeChat user (of our Official Account) is which login.

An openid names one WeChat user to one Official Account; the unionid, when WeChat gives one
(the Official Account is tied to an Open Platform account), names them across that
platform's apps. One WeChat per login and one login per WeChat.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class WeChatAccount(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="wechat_account",
        verbose_name=_("login"),
    )
    # WeChat's openids are 28 characters; room to spare.
    openid = models.CharField(_("WeChat openid"), max_length=64, unique=True)
    unionid = models.CharField(_("WeChat unionid"), max_length=64, blank=True)
    # What the person calls themselves on WeChat (snsapi_userinfo only), so that they can
    # tell which WeChat is bound; never shown to anyone else.
    nickname = models.CharField(_("WeChat nickname"), max_length=100, blank=True)
    bound_at = models.DateTimeField(_("bound at"))

    class Meta:
        verbose_name = _("WeChat binding")
        verbose_name_plural = _("WeChat bindings")
        constraints = [
            models.CheckConstraint(condition=~Q(openid=""), name="wechat_openid_not_empty"),
            models.UniqueConstraint(
                fields=["unionid"], condition=~Q(unionid=""), name="wechat_unionid_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · WeChat"
