"""Survey test helpers: a small instrument built through the real services, and logins for
residents of each part of the shared world."""

from linli.accounts.roles import Role
from linli.conftest import make_user
from linli.grids.services import resident_account_link
from linli.participation.surveys import services

# Two factors: "Trust" with one reverse-scored item, "Preparedness" with two plain ones.
FACTORS = {
    "Trust": [("Neighbours can be trusted", False), ("People only look after themselves", True)],
    "Preparedness": [("I know the shelter", False), ("We keep supplies", False)],
}


def make_survey(world, *, anonymous=True, open_it=True, factors=FACTORS, free_text_prompt=""):
    actor = world.users[Role.SECRETARY]
    survey = services.survey_create(
        actor=actor,
        community=world.community,
        title="韧性调查",
        anonymous=anonymous,
        free_text_prompt=free_text_prompt,
    )
    for name, items in factors.items():
        factor = services.factor_add(actor=actor, survey=survey, name=name)
        for text, reverse_scored in items:
            services.item_add(
                actor=actor, survey=survey, factor=factor, text=text, reverse_scored=reverse_scored
            )
    if open_it:
        survey = services.survey_open(actor=actor, survey=survey)
    return survey


def resident_logins(world) -> dict:
    """Logins for the neighbour (same building group as the resident user), the resident of
    the other micro-grid, and the resident of the other community."""
    logins = {"resident": world.users[Role.RESIDENT]}
    for key, resident in (
        ("neighbour", world.neighbour),
        ("other_micro_grid", world.other_micro_grid_resident),
        ("other_community", world.other_community_resident),
    ):
        user = make_user(f"login-{key}")
        resident_account_link(resident=resident, user=user)
        logins[key] = user
    return logins


def answers_for(survey, values: list[int]) -> dict[int, int]:
    """Item id → value, in item order."""
    return {item.pk: value for item, value in zip(survey.items.all(), values, strict=True)}
