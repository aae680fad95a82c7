"""Survey arithmetic, pure functions over plain numbers (no database).

Scores: a reverse-scored item is recoded 6 − x on the 1–5 scale first; a respondent's
factor score is the mean of their recoded items in that factor; a unit's factor score is
the mean of its respondents' factor scores.

Cronbach's alpha for k items answered by n respondents:

    α = k / (k − 1) · (1 − Σ σ²_item / σ²_total)

with sample variances (n − 1 in the denominator) of each item and of the respondents'
total over the k items. It is undefined (None) with fewer than two items, fewer than two
respondents, or a total with no variance.
"""

from collections.abc import Sequence
from fractions import Fraction
from statistics import fmean

from linli.participation.surveys.models import LIKERT_MAX, LIKERT_MIN


def recode(value: int, reverse_scored: bool) -> int:
    return (LIKERT_MIN + LIKERT_MAX - value) if reverse_scored else value


def sample_variance(values: Sequence[int | Fraction]) -> Fraction:
    # Exact arithmetic: the alpha of a small matrix is checked against a hand computation.
    n = len(values)
    mean = Fraction(sum(values), n)
    return sum(((Fraction(value) - mean) ** 2 for value in values), Fraction(0)) / (n - 1)


def cronbach_alpha(matrix: Sequence[Sequence[int]]) -> float | None:
    """`matrix[r][i]` is respondent r's (already recoded) answer to item i."""
    n = len(matrix)
    k = len(matrix[0]) if n else 0
    if k < 2 or n < 2:
        return None
    if any(len(row) != k for row in matrix):
        raise ValueError("Every respondent needs an answer to every item.")
    item_variances = sum(sample_variance([row[i] for row in matrix]) for i in range(k))
    total_variance = sample_variance([sum(row) for row in matrix])
    if total_variance == 0:
        return None
    return float(Fraction(k, k - 1) * (1 - item_variances / total_variance))


def factor_score(values: Sequence[int]) -> float | None:
    """One respondent's score on one factor: the mean of their recoded items."""
    return fmean(values) if values else None


def mean_or_none(values: Sequence[float]) -> float | None:
    return fmean(values) if values else None
