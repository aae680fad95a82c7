"""Cronbach's alpha and factor scores, checked against hand computations."""

from fractions import Fraction

import pytest

from linli.participation.surveys.stats import (
    cronbach_alpha,
    factor_score,
    recode,
    sample_variance,
)

# Four respondents, three items (already recoded).
MATRIX = [
    [1, 2, 2],
    [2, 3, 3],
    [3, 3, 4],
    [4, 5, 5],
]


def test_alpha_matches_the_worked_example_computed_by_hand():
    # By hand, sample variances (n − 1 = 3):
    #   item 1: 1,2,3,4 mean 5/2, squares 9/4+1/4+1/4+9/4 = 5      → 5/3
    #   item 2: 2,3,3,5 mean 13/4, squares 25/16+1/16+1/16+49/16 = 19/4 → 19/12
    #   item 3: 2,3,4,5 mean 7/2, squares 5                          → 5/3
    #   Σ item variances = 20/12 + 19/12 + 20/12 = 59/12
    #   totals 5,8,10,14 mean 37/4, squares 289/16+25/16+9/16+361/16 = 171/4 → 57/4
    #   α = 3/2 · (1 − (59/12)/(57/4)) = 3/2 · (1 − 59/171) = 3/2 · 112/171 = 56/57
    assert cronbach_alpha(MATRIX) == float(Fraction(56, 57))


def test_alpha_agrees_with_the_covariance_form_of_the_formula():
    # An independent route: α = k·c̄ / (v̄ + (k − 1)·c̄), c̄ the mean inter-item covariance.
    n, k = len(MATRIX), len(MATRIX[0])
    columns = [[Fraction(row[i]) for row in MATRIX] for i in range(k)]
    means = [sum(column) / n for column in columns]

    def covariance(a, b):
        return sum((columns[a][r] - means[a]) * (columns[b][r] - means[b]) for r in range(n)) / (
            n - 1
        )

    mean_variance = sum(covariance(i, i) for i in range(k)) / k
    pairs = [(i, j) for i in range(k) for j in range(k) if i != j]
    mean_covariance = sum(covariance(i, j) for i, j in pairs) / len(pairs)
    expected = k * mean_covariance / (mean_variance + (k - 1) * mean_covariance)
    assert expected == Fraction(56, 57)
    assert cronbach_alpha(MATRIX) == float(expected)


def test_alpha_is_zero_or_negative_when_items_do_not_hang_together():
    # (1,2),(2,2): item variances 1/2 and 0, totals 3,4 → 1/2; α = 2·(1 − 1) = 0.
    assert cronbach_alpha([[1, 2], [2, 2]]) == 0.0
    # (1,5),(2,3): item variances 1/2 and 2, totals 6,5 → 1/2; α = 2·(1 − 5) = −8.
    assert cronbach_alpha([[1, 5], [2, 3]]) == -8.0


def test_alpha_is_undefined_with_fewer_than_two_items():
    assert cronbach_alpha([[3], [4], [5]]) is None


def test_alpha_is_undefined_with_fewer_than_two_respondents():
    assert cronbach_alpha([[3, 4, 5]]) is None
    assert cronbach_alpha([]) is None


def test_alpha_is_undefined_when_the_totals_do_not_vary():
    assert cronbach_alpha([[3, 3], [3, 3], [3, 3]]) is None
    # Items vary but always sum to 6: zero total variance.
    assert cronbach_alpha([[1, 5], [5, 1], [3, 3]]) is None


def test_alpha_refuses_a_ragged_matrix():
    with pytest.raises(ValueError):
        cronbach_alpha([[1, 2], [3]])


def test_reverse_scored_answers_are_recoded_six_minus_x():
    assert [recode(value, True) for value in (1, 2, 3, 4, 5)] == [5, 4, 3, 2, 1]
    assert [recode(value, False) for value in (1, 2, 3, 4, 5)] == [1, 2, 3, 4, 5]


def test_sample_variance_divides_by_n_minus_one():
    assert sample_variance([1, 2, 3, 4]) == Fraction(5, 3)


def test_factor_score_is_the_mean_of_the_items():
    assert factor_score([4, 5, 3]) == 4.0
    assert factor_score([]) is None
