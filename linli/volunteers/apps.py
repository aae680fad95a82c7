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
