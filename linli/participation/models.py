"""Every model of the participation app, gathered where Django looks for them.

Each sub-domain keeps its models in its own package; they stay in this app (label
`participation`, tables `participation_*`), so moving one between modules never moves a
table:

- activities: venues, activities and their occurrences, sign-ups, stalls, feedback, photos;
- deliberation (议事厅): topics, rounds, opinions, the resolution and its implementation;
- surveys: instruments, responses and answers;
- ties: the stored results of the co-participation network.

`new_check_in_token` and `activity_photo_upload_to` are named here because the migrations
refer to them by this module's path.
"""

from linli.participation.activities.models import (
    CHECK_IN_EARLY,
    CHECK_IN_LATE,
    Activity,
    ActivityKind,
    ActivityPhoto,
    CheckInMethod,
    Feedback,
    Occurrence,
    OccurrenceQuerySet,
    OccurrenceState,
    ProviderKind,
    SignUp,
    SignUpStatus,
    Stall,
    StallService,
    Venue,
    activity_photo_upload_to,
    new_check_in_token,
)
from linli.participation.deliberation.models import (
    CaseLink,
    Milestone,
    Opinion,
    OpinionReport,
    Resolution,
    ResolutionKind,
    Round,
    StakeholderGroup,
    StakeholderMembership,
    Topic,
    TopicState,
    TopicSupport,
    TopicUpdate,
)
from linli.participation.surveys.models import (
    LIKERT_LABELS,
    LIKERT_MAX,
    LIKERT_MIN,
    Survey,
    SurveyAnswer,
    SurveyFactor,
    SurveyItem,
    SurveyResponse,
    SurveyState,
)
from linli.participation.ties.models import IsolatedResident, TieSnapshot

__all__ = [
    "CHECK_IN_EARLY",
    "CHECK_IN_LATE",
    "LIKERT_LABELS",
    "LIKERT_MAX",
    "LIKERT_MIN",
    "Activity",
    "ActivityKind",
    "ActivityPhoto",
    "CaseLink",
    "CheckInMethod",
    "Feedback",
    "IsolatedResident",
    "Milestone",
    "Occurrence",
    "OccurrenceQuerySet",
    "OccurrenceState",
    "Opinion",
    "OpinionReport",
    "ProviderKind",
    "Resolution",
    "ResolutionKind",
    "Round",
    "SignUp",
    "SignUpStatus",
    "StakeholderGroup",
    "StakeholderMembership",
    "Stall",
    "StallService",
    "Survey",
    "SurveyAnswer",
    "SurveyFactor",
    "SurveyItem",
    "SurveyResponse",
    "SurveyState",
    "TieSnapshot",
    "Topic",
    "TopicState",
    "TopicSupport",
    "TopicUpdate",
    "Venue",
    "activity_photo_upload_to",
    "new_check_in_token",
]
