from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WeChatConfig(AppConfig):
    name = "linli.wechat"
    label = "wechat"
    verbose_name = _("WeChat")

    def ready(self) -> None:
        # The WeChat channel of the outbox, and where it finds a person's openid: notify
        # imports no domain app, so the app that knows both registers them.
        from linli.notify.channels import CHANNEL_SENDERS
        from linli.notify.contacts import register_contact_source
        from linli.notify.models import Channel
        from linli.wechat.channel import WeChatSender
        from linli.wechat.selectors import openid_of

        CHANNEL_SENDERS[Channel.WECHAT] = WeChatSender()
        register_contact_source(Channel.WECHAT, openid_of)
