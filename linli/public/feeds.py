"""RSS 2.0 and Atom feeds of a community's public case board and activity calendar.

Items are the same safe rows the pages show (linli.public.selectors), every link is absolute
from LINLI_SITE_URL, and the feeds answer 404 unless the community turned the page on.
"""

from django.contrib.syndication.views import Feed
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.translation import gettext as _

from linli.grids.models import GridUnit
from linli.public import selectors
from linli.public.links import public_url
from linli.public.selectors import PublicCaseRow, PublicOccurrence

# An item and its absolute link: the feed object is shared by every request, so the
# community an item belongs to travels with the item.
CaseItem = tuple[PublicCaseRow, str]
OccurrenceItem = tuple[PublicOccurrence, str]


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


class CaseFeed(Feed):
    feed_type = Rss201rev2Feed
    url_name = "case_feed_rss"

    def get_object(self, request, community: GridUnit) -> GridUnit:
        # public_view has checked the switch and passes the community itself.
        return community

    def title(self, community: GridUnit) -> str:
        return _("%(community)s · public case board") % {"community": community.name}

    def link(self, community: GridUnit) -> str:
        return public_url("cases", community.pk)

    def feed_url(self, community: GridUnit) -> str:
        return public_url(self.url_name, community.pk)

    def description(self, community: GridUnit) -> str:
        return _(
            "Problems reported in %(community)s and how they were handled: category, state "
            "and dates, without names, rooms or descriptions."
        ) % {"community": community.name}

    subtitle = description

    def items(self, community: GridUnit) -> list[CaseItem]:
        values = list(selectors.public_cases(community=community)[: selectors.FEED_SIZE])
        board = public_url("cases", community.pk)
        return [
            (row, f"{board}#case-{row.reference}")
            for row in selectors.case_rows(values, community=community)
        ]

    def item_title(self, item: CaseItem) -> str:
        row = item[0]
        return f"{row.category} · {row.state_label} · {row.reference}"

    def item_description(self, item: CaseItem) -> str:
        row = item[0]
        parts = [
            _("Filed %(when)s") % {"when": _when(row.filed_at)},
            _("Place: %(place)s") % {"place": row.place},
        ]
        if row.closed_at is not None:
            parts.append(_("Closed %(when)s") % {"when": _when(row.closed_at)})
            parts.append(_("Time taken: %(duration)s") % {"duration": row.time_taken_words})
        if row.satisfaction is not None:
            parts.append(_("Satisfaction: %(score)d of 5") % {"score": row.satisfaction})
        return _("; ").join(parts)

    def item_link(self, item: CaseItem) -> str:
        return item[1]

    def item_pubdate(self, item: CaseItem):
        return item[0].filed_at

    def item_updateddate(self, item: CaseItem):
        return item[0].changed_at

    def item_categories(self, item: CaseItem) -> list[str]:
        return [item[0].category]


class CaseAtomFeed(CaseFeed):
    feed_type = Atom1Feed
    url_name = "case_feed_atom"


class ActivityFeed(Feed):
    feed_type = Rss201rev2Feed
    url_name = "activity_feed_rss"

    def get_object(self, request, community: GridUnit) -> GridUnit:
        return community

    def title(self, community: GridUnit) -> str:
        return _("%(community)s · activity calendar") % {"community": community.name}

    def link(self, community: GridUnit) -> str:
        return public_url("activities", community.pk)

    def feed_url(self, community: GridUnit) -> str:
        return public_url(self.url_name, community.pk)

    def description(self, community: GridUnit) -> str:
        return _("The coming activities of %(community)s.") % {"community": community.name}

    subtitle = description

    def items(self, community: GridUnit) -> list[OccurrenceItem]:
        calendar = public_url("activities", community.pk)
        return [
            (row, f"{calendar}?month={timezone.localtime(row.starts_at):%Y-%m}#occurrence-{row.id}")
            for row in selectors.upcoming_occurrences(community=community)
        ]

    def item_title(self, item: OccurrenceItem) -> str:
        row = item[0]
        return f"{row.title} · {_when(row.starts_at)}"

    def item_description(self, item: OccurrenceItem) -> str:
        row = item[0]
        parts = [
            _("%(start)s to %(end)s")
            % {
                "start": _when(row.starts_at),
                "end": timezone.localtime(row.ends_at).strftime("%H:%M"),
            }
        ]
        if row.place:
            parts.append(_("Place: %(place)s") % {"place": row.place})
        if row.recurrence:
            parts.append(row.recurrence)
        parts.append(
            _("Signed up: %(confirmed)d of %(capacity)d")
            % {"confirmed": row.confirmed, "capacity": row.capacity}
        )
        return _("; ").join(parts)

    def item_link(self, item: OccurrenceItem) -> str:
        return item[1]

    def item_pubdate(self, item: OccurrenceItem):
        return item[0].published_at

    def item_updateddate(self, item: OccurrenceItem):
        return item[0].updated_at


class ActivityAtomFeed(ActivityFeed):
    feed_type = Atom1Feed
    url_name = "activity_feed_atom"
