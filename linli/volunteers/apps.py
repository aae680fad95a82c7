from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VolunteersConfig(AppConfig):
    name = "linli.volunteers"
    label = "volunteers"
    verbose_name = _("Volunteers")

    def ready(self) -> None:
        # An approved volunteer belongs to the community they serve (linli.grids.membership).
        from linli.grids.membership import register_membership_source
        from linli.volunteers.selectors import volunteer_member_paths

        register_membership_source(volunteer_member_paths)

        # SMS to a volunteer goes to the phone on their volunteer profile when their login
        # has none (linli.notify.contacts): the phone they gave for contact, never a guess.
        from linli.notify.contacts import register_contact_source
        from linli.notify.models import Channel
        from linli.volunteers.selectors import volunteer_contact_phone

        register_contact_source(Channel.SMS, volunteer_contact_phone)

        # Applications and their review, in the one table of who hears what.
        from linli.volunteers import notification_events  # noqa: F401
