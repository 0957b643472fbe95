"""The statistics of A/B tests: known values (from SciPy 1.18 and R), and simulations.

The simulations run the decision function on simulated counts, not on sent email, thousands of
times with a fixed seed: A/A tests must declare a winner at the chosen rate, and a real
difference must be found as often as the computed power says. Tolerances are four binomial
standard deviations of the simulated rate, so a correct implementation passes for any seed.
"""

from __future__ import annotations

import math
import random

import pytest

from rapport.campaigns import stats
from rapport.campaigns.stats import Arm, Sample

SIMULATIONS = 2000


def test_normal_distribution_matches_known_values() -> None:
    assert stats.normal_ppf(0.975) == pytest.approx(1.959963984540054, abs=1e-12)
    assert stats.normal_ppf(0.001) == pytest.approx(-3.090232306167813, abs=1e-12)
    assert stats.normal_cdf(-2.5) == pytest.approx(0.006209665325776132, abs=1e-15)
    for p in (1e-9, 0.01, 0.3, 0.5, 0.77, 0.999999):
        assert stats.normal_cdf(stats.normal_ppf(p)) == pytest.approx(p, rel=1e-12)


def test_student_t_and_incomplete_beta_match_known_values() -> None:
    assert stats.incomplete_beta(2, 3, 0.4) == pytest.approx(0.5248, abs=1e-13)
    assert stats.incomplete_beta(0.5, 7.5, 0.2) == pytest.approx(0.9281204024988001, abs=1e-12)
    assert stats.incomplete_beta(30, 40, 0.45) == pytest.approx(0.6447480085585666, abs=1e-12)
    assert stats.t_cdf(2.0, 5) == pytest.approx(0.9490302605850708, abs=1e-12)
    assert stats.t_cdf(-1.3, 17.4) == pytest.approx(0.10527958496005321, abs=1e-12)
    for p, df, expected in [
        (0.975, 1, 12.706204736174694),
        (0.975, 10, 2.228138851986274),
        (0.995, 4, 4.604094871349992),
        (0.975, 30, 2.0422724563012378),
        (0.9, 2.5, 1.7302509288071766),
    ]:
        assert stats.t_ppf(p, df) == pytest.approx(expected, rel=1e-9)


def test_two_proportion_z_test_matches_the_chi_square_test() -> None:
    # R: prop.test(c(200, 250), c(1000, 1000), correct = FALSE)$p.value == 0.007419649
    result = stats.compare_rates((200, 1000), (250, 1000), alpha=0.05)
    assert result.p_value == pytest.approx(0.007419649261025687, rel=1e-9)
    assert result.difference == pytest.approx(0.05)
    assert result.significant
    error = math.sqrt(0.2 * 0.8 / 1000 + 0.25 * 0.75 / 1000)
    assert result.interval.low == pytest.approx(0.05 - 1.959963984540054 * error)
    assert not stats.compare_rates((200, 1000), (250, 1000), alpha=0.005).significant


def test_welch_t_test_matches_scipy() -> None:
    # Welch's own example (Wikipedia); scipy.stats.ttest_ind(a2, a1, equal_var=False).
    a1 = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4]
    a2 = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4]
    control, challenger = Sample.of(a1), Sample.of(a2)
    assert challenger.nonzero == 15
    result = stats.compare_means(control, challenger, alpha=0.05)
    assert result.p_value == pytest.approx(0.021378001462866992, rel=1e-8)
    assert result.interval.low == pytest.approx(0.3492370661924069, rel=1e-8)
    assert result.interval.high == pytest.approx(3.984096267140929, rel=1e-8)
    # …but 15 values are fewer than revenue needs before any verdict.
    assert not result.significant
    assert "buyers" in result.note


def test_wilson_interval_matches_scipy() -> None:
    interval = stats.wilson_interval(12, 200, 0.95)
    assert interval.low == pytest.approx(0.034652194254331865, rel=1e-9)
    assert interval.high == pytest.approx(0.10193169295766272, rel=1e-9)
    assert stats.wilson_interval(0, 0, 0.95) == stats.Interval(0.0, 1.0)


def test_an_empty_arm_or_identical_arms_are_never_significant() -> None:
    assert not stats.compare_rates((0, 0), (5, 100), alpha=0.05).significant
    assert not stats.compare_rates((0, 100), (0, 100), alpha=0.05).significant
    assert not stats.compare_means(Sample(0), Sample(10, 5, 5, 5), alpha=0.05).significant


def test_decide_picks_the_best_significant_challenger_and_corrects_for_several() -> None:
    arms = [Arm("A", rate=(100, 1000)), Arm("B", rate=(150, 1000)), Arm("C", rate=(170, 1000))]
    decision = stats.decide(arms, confidence=0.95)
    assert decision.winner == "C"
    assert decision.significant
    assert decision.adjusted_alpha == pytest.approx(0.025)
    # p = 0.036 for B: significant at 0.05 in a two-variant test, not after Bonferroni.
    two = [Arm("A", rate=(100, 1000)), Arm("B", rate=(130, 1000))]
    alone = stats.decide(two, confidence=0.95)
    assert alone.comparisons["B"].p_value == pytest.approx(0.0355, abs=0.001)
    assert (alone.winner, alone.significant) == ("B", True)
    three = stats.decide([*two, Arm("C", rate=(101, 1000))], confidence=0.95)
    assert three.comparisons["B"].p_value == alone.comparisons["B"].p_value
    assert (three.winner, three.significant) == ("A", False)
    # The interval shown is the one decided on: at 97.5 %, it reaches below zero.
    assert three.comparisons["B"].interval.low < 0 < alone.comparisons["B"].interval.low


def test_the_control_wins_significantly_only_when_it_beats_every_challenger() -> None:
    worse = [Arm("A", rate=(200, 1000)), Arm("B", rate=(120, 1000))]
    decision = stats.decide(worse, confidence=0.95)
    assert (decision.winner, decision.significant) == ("A", True)
    mixed = [*worse, Arm("C", rate=(195, 1000))]
    decision = stats.decide(mixed, confidence=0.95)
    assert (decision.winner, decision.significant) == ("A", False)


def _aa_false_winners(rng: random.Random, *, arms: int, n: int, rate: float, level: float) -> int:
    found = 0
    for _ in range(SIMULATIONS):
        simulated = [Arm(label, rate=(rng.binomialvariate(n, rate), n)) for label in "ABCD"[:arms]]
        found += stats.decide(simulated, confidence=level).significant
    return found


def _within_binomial(count: int, expected_rate: float) -> bool:
    tolerance = 4 * math.sqrt(SIMULATIONS * expected_rate * (1 - expected_rate))
    return abs(count - SIMULATIONS * expected_rate) <= tolerance


@pytest.mark.parametrize("level", [0.95, 0.99, 0.9])
def test_aa_tests_declare_a_false_winner_at_the_chosen_level(level: float) -> None:
    false_winners = _aa_false_winners(
        random.Random(20261123), arms=2, n=2000, rate=0.12, level=level
    )
    assert _within_binomial(false_winners, 1 - level), false_winners


def test_aa_tests_with_four_variants_keep_the_family_wise_rate() -> None:
    """With three comparisons against A, Bonferroni keeps the chance of any false
    significance at most the level (and, being conservative, a little under it); a false
    winner, one side of that, is rarer still."""
    rng = random.Random(7)
    any_significant = false_winners = 0
    for _ in range(SIMULATIONS):
        arms = [Arm(label, rate=(rng.binomialvariate(3000, 0.05), 3000)) for label in "ABCD"]
        decision = stats.decide(arms, confidence=0.95)
        any_significant += any(c.significant for c in decision.comparisons.values())
        false_winners += decision.significant
    ceiling = SIMULATIONS * 0.05 + 4 * math.sqrt(SIMULATIONS * 0.05 * 0.95)
    assert SIMULATIONS * 0.03 <= any_significant <= ceiling
    assert false_winners <= any_significant


def test_a_real_difference_is_found_with_the_computed_power() -> None:
    rng = random.Random(99)
    for control, challenger, n in [(0.10, 0.12, 2000), (0.02, 0.03, 5000), (0.3, 0.33, 3000)]:
        expected = stats.power_of_rates(control, challenger, n, alpha=0.05)
        found = 0
        for _ in range(SIMULATIONS):
            arms = [
                Arm("A", rate=(rng.binomialvariate(n, control), n)),
                Arm("B", rate=(rng.binomialvariate(n, challenger), n)),
            ]
            decision = stats.decide(arms, confidence=0.95)
            found += decision.significant and decision.winner == "B"
        assert 0.3 < expected < 0.95
        assert _within_binomial(found, expected), (control, challenger, found, expected)


def _revenue(rng: random.Random, n: int, conversion: float, mu: float) -> Sample:
    buyers = rng.binomialvariate(n, conversion)
    return Sample.of([rng.lognormvariate(mu, 1.0) for _ in range(buyers)], n=n)


def test_aa_tests_on_skewed_revenue_keep_the_level() -> None:
    """Zero-inflated log-normal revenue (5 % buy, heavy right tail): Welch's test on the mean
    per recipient still declares a false winner at about the chosen rate."""
    rng = random.Random(4242)
    false_winners = sum(
        stats.decide(
            [Arm("A", sample=_revenue(rng, 4000, 0.05, 4.0)),
             Arm("B", sample=_revenue(rng, 4000, 0.05, 4.0))],
            confidence=0.95,
        ).significant
        for _ in range(SIMULATIONS)
    )  # fmt: skip
    assert _within_binomial(false_winners, 0.05), false_winners


def test_a_real_revenue_difference_is_found_with_the_expected_power() -> None:
    rng = random.Random(77)
    n, conversion, sigma = 4000, 0.05, 1.0
    mu_a, mu_b = 4.0, 4.3

    def moments(mu: float) -> tuple[float, float]:
        mean = conversion * math.exp(mu + sigma**2 / 2)
        return mean, conversion * math.exp(2 * mu + 2 * sigma**2) - mean**2

    (mean_a, var_a), (mean_b, var_b) = moments(mu_a), moments(mu_b)
    error = math.sqrt(var_a / n + var_b / n)
    z = stats.normal_ppf(0.975)
    expected = stats.normal_cdf((mean_b - mean_a) / error - z)
    found = 0
    for _ in range(SIMULATIONS):
        decision = stats.decide(
            [Arm("A", sample=_revenue(rng, n, conversion, mu_a)),
             Arm("B", sample=_revenue(rng, n, conversion, mu_b))],
            confidence=0.95,
        )  # fmt: skip
        found += decision.significant and decision.winner == "B"
    assert 0.3 < expected < 0.9
    assert _within_binomial(found, expected), (found, expected)


def test_detectable_difference_is_what_the_power_function_inverts() -> None:
    lift = stats.detectable_difference(0.1, 5000, alpha=0.05)
    assert stats.power_of_rates(0.1, 0.1 + lift, 5000, alpha=0.05) == pytest.approx(0.8, abs=1e-6)
    assert stats.detectable_difference(0.1, 20000, alpha=0.05) < lift
