"""The statistics behind A/B and frequency tests, written with ``math`` alone.

What is compared, and how:

- **Rates** (unique human opens, clicks, conversions, unsubscribes per recipient): the
  two-proportion z-test, two-sided, with the pooled standard error under the null hypothesis
  (the textbook test, best calibrated when both arms really are equal). Each arm's rate is shown
  with a Wilson score interval (it stays inside 0-100 % and is honest at click rates of 1-2 %,
  where the Wald interval is not); the difference with a Wald interval on the unpooled error.
- **Revenue per recipient**: Welch's t-test on the means. Revenue is skewed (most recipients
  buy nothing, a few buy a lot), but the quantity the business earns is the *mean*, and by the
  central limit theorem the mean of thousands of recipients is close to normal even when single
  values are not; Welch's test also needs no equal variances. Mann-Whitney would test a
  different question (is one arm's distribution shifted), which with 95 % zeros is mostly
  "who converted more", not "who earned more"; a bootstrap gives the same answer at these
  sizes for a thousand times the work. Where the normal approximation is weak (fewer than
  ``MIN_NONZERO`` buyers in an arm) we do not declare a difference at all. The simulations in
  the tests check the false-winner rate on zero-inflated log-normal revenue.
- **Several variants**: each challenger is compared with the control (A), and the level is
  divided by the number of comparisons (Bonferroni). It is conservative, but the interval shown
  for each difference is then exactly the one the decision used: significant if and only if it
  leaves out zero.

Normal quantiles use Acklam's rational approximation polished by one Halley step (error below
1e-14); Student's t uses the regularised incomplete beta function by Lentz's continued fraction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

MIN_NONZERO = 20  # buyers per arm before revenue per recipient is judged at all


# -- distributions ---------------------------------------------------------------------------


def normal_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


_A = (-39.69683028665376, 220.9460984245205, -275.9285104469687,
      138.3577518672690, -30.66479806614716, 2.506628277459239)  # fmt: skip
_B = (-54.47609879822406, 161.5858368580409, -155.6989798598866,
      66.80131188771972, -13.28068155288572)  # fmt: skip
_C = (-0.007784894002430293, -0.3223964580411365, -2.400758277161838,
      -2.549732539343734, 4.374664141464968, 2.938163982698783)  # fmt: skip
_D = (0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416)


def normal_ppf(p: float) -> float:
    """The z with ``normal_cdf(z) == p``."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"a probability strictly between 0 and 1, not {p}")
    low = 0.02425
    if p < low:
        q = math.sqrt(-2 * math.log(p))
        x = (((((_C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5]) / (
            (((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1
        )
    elif p <= 1 - low:
        q = p - 0.5
        r = q * q
        x = (
            (((((_A[0] * r + _A[1]) * r + _A[2]) * r + _A[3]) * r + _A[4]) * r + _A[5])
            * q
            / (((((_B[0] * r + _B[1]) * r + _B[2]) * r + _B[3]) * r + _B[4]) * r + 1)
        )
    else:
        return -normal_ppf(1 - p)
    error = normal_cdf(x) - p
    u = error * math.sqrt(2 * math.pi) * math.exp(x * x / 2)
    return x - u / (1 + x * u / 2)


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 500):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1 + numerator * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= c * d
        if abs(c * d - 1) < 1e-15:
            break
    return result


def incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
        + a * math.log(x) + b * math.log1p(-x)
    )  # fmt: skip
    if x < (a + 1) / (a + b + 2):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1 - math.exp(log_front) * _beta_fraction(b, a, 1 - x) / b


def t_cdf(t: float, df: float) -> float:
    tail = 0.5 * incomplete_beta(df / 2, 0.5, df / (df + t * t))
    return 1 - tail if t > 0 else tail


def t_ppf(p: float, df: float) -> float:
    """The t with ``t_cdf(t, df) == p``, by bisection (monotone, and cheap enough here)."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"a probability strictly between 0 and 1, not {p}")
    low, high = -1.0, 1.0
    while t_cdf(low, df) > p:
        low *= 2
    while t_cdf(high, df) < p:
        high *= 2
    for _ in range(200):
        middle = (low + high) / 2
        if t_cdf(middle, df) < p:
            low = middle
        else:
            high = middle
        if high - low < 1e-12 * max(1.0, abs(middle)):
            break
    return (low + high) / 2


# -- one arm ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Interval:
    low: float
    high: float

    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0


def wilson_interval(successes: int, trials: int, confidence: float) -> Interval:
    if trials <= 0:
        return Interval(0.0, 1.0)
    z = normal_ppf(1 - (1 - confidence) / 2)
    rate = successes / trials
    denominator = 1 + z * z / trials
    centre = (rate + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(rate * (1 - rate) / trials + z * z / (4 * trials * trials)) / denominator
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True, slots=True)
class Sample:
    """One arm's values by their sums: ``n`` recipients, the sum and the sum of squares of
    their values (revenue; 0 for most), and how many were not zero."""

    n: int
    total: float = 0.0
    squares: float = 0.0
    nonzero: int = 0

    @property
    def mean(self) -> float:
        return self.total / self.n if self.n else 0.0

    @property
    def variance(self) -> float:
        """The sample variance (n - 1)."""
        if self.n < 2:
            return 0.0
        return max(0.0, (self.squares - self.total * self.total / self.n) / (self.n - 1))

    @classmethod
    def of(cls, values: Sequence[float], n: int | None = None) -> Sample:
        """From the non-zero values and the arm's size (the rest are zeros)."""
        size = len(values) if n is None else n
        return cls(size, float(sum(values)), float(sum(v * v for v in values)),
                   sum(1 for v in values if v))  # fmt: skip


def mean_interval(sample: Sample, confidence: float) -> Interval:
    if sample.n < 2:
        return Interval(sample.mean, sample.mean)
    half = t_ppf(1 - (1 - confidence) / 2, sample.n - 1) * math.sqrt(sample.variance / sample.n)
    return Interval(sample.mean - half, sample.mean + half)


# -- two arms --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Comparison:
    """A challenger against the control: the difference (challenger minus control), its
    interval at the level the decision used, and the two-sided p-value."""

    difference: float
    interval: Interval
    p_value: float
    significant: bool
    note: str = ""


def compare_rates(
    control: tuple[int, int], challenger: tuple[int, int], *, alpha: float
) -> Comparison:
    """Two-proportion z-test of ``(successes, trials)`` pairs, two-sided at ``alpha``."""
    (x1, n1), (x2, n2) = control, challenger
    if n1 == 0 or n2 == 0:
        return Comparison(0.0, Interval(-1.0, 1.0), 1.0, False, "no recipients yet")
    p1, p2 = x1 / n1, x2 / n2
    difference = p2 - p1
    pooled = (x1 + x2) / (n1 + n2)
    null_error = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    p_value = 1.0 if null_error == 0 else 2 * normal_cdf(-abs(difference) / null_error)
    error = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    z = normal_ppf(1 - alpha / 2)
    interval = Interval(difference - z * error, difference + z * error)
    return Comparison(difference, interval, p_value, p_value < alpha)


def compare_means(control: Sample, challenger: Sample, *, alpha: float) -> Comparison:
    """Welch's t-test, two-sided at ``alpha``; no verdict with fewer than ``MIN_NONZERO``
    non-zero values in an arm (see the module's docstring)."""
    difference = challenger.mean - control.mean
    if control.n < 2 or challenger.n < 2:
        return Comparison(difference, Interval(-math.inf, math.inf), 1.0, False,
                          "no recipients yet")  # fmt: skip
    v1, v2 = control.variance / control.n, challenger.variance / challenger.n
    error = math.sqrt(v1 + v2)
    if error == 0:
        return Comparison(difference, Interval(difference, difference), 1.0, False)
    df = (v1 + v2) ** 2 / (
        (v1 * v1 / (control.n - 1) if v1 else 0.0) + (v2 * v2 / (challenger.n - 1) if v2 else 0.0)
    )
    t = difference / error
    p_value = 2 * t_cdf(-abs(t), df)
    half = t_ppf(1 - alpha / 2, df) * error
    interval = Interval(difference - half, difference + half)
    if min(control.nonzero, challenger.nonzero) < MIN_NONZERO:
        return Comparison(difference, interval, p_value, False,
                          f"fewer than {MIN_NONZERO} buyers in an arm")  # fmt: skip
    return Comparison(difference, interval, p_value, p_value < alpha)


# -- the decision ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Arm:
    """One variant's data: a rate's ``(successes, trials)`` or a revenue ``Sample``."""

    label: str
    rate: tuple[int, int] | None = None
    sample: Sample | None = None

    @property
    def value(self) -> float:
        if self.sample is not None:
            return self.sample.mean
        assert self.rate is not None
        return self.rate[0] / self.rate[1] if self.rate[1] else 0.0


@dataclass(frozen=True, slots=True)
class Decision:
    winner: str  # the control's label when nothing is significant
    significant: bool
    alpha: float  # the level asked for
    adjusted_alpha: float  # per comparison (Bonferroni)
    comparisons: dict[str, Comparison] = field(default_factory=dict)  # challenger label ->


def decide(arms: Sequence[Arm], *, confidence: float) -> Decision:
    """The winner of ``arms`` (the first is the control) at the two-sided level
    ``1 - confidence``: the best challenger significantly better than the control, else the
    control, significant only when it beat every challenger significantly."""
    if len(arms) < 2:
        raise ValueError("a test needs a control and at least one challenger")
    alpha = 1 - confidence
    adjusted = alpha / (len(arms) - 1)
    control = arms[0]
    comparisons: dict[str, Comparison] = {}
    for arm in arms[1:]:
        if control.sample is not None and arm.sample is not None:
            comparisons[arm.label] = compare_means(control.sample, arm.sample, alpha=adjusted)
        else:
            assert control.rate is not None and arm.rate is not None
            comparisons[arm.label] = compare_rates(control.rate, arm.rate, alpha=adjusted)
    better = [
        arm for arm in arms[1:]
        if comparisons[arm.label].significant and comparisons[arm.label].difference > 0
    ]  # fmt: skip
    if better:
        best = max(better, key=lambda arm: arm.value)
        return Decision(best.label, True, alpha, adjusted, comparisons)
    control_won = all(c.significant and c.difference < 0 for c in comparisons.values())
    return Decision(control.label, control_won, alpha, adjusted, comparisons)


def power_of_rates(
    control_rate: float, challenger_rate: float, per_arm: int, *, alpha: float
) -> float:
    """The chance that ``compare_rates`` finds the difference between two true rates with
    ``per_arm`` recipients in each arm (normal approximation, both tails)."""
    if per_arm <= 0:
        return 0.0
    pooled = (control_rate + challenger_rate) / 2
    null_error = math.sqrt(2 * pooled * (1 - pooled) / per_arm)
    error = math.sqrt(
        (control_rate * (1 - control_rate) + challenger_rate * (1 - challenger_rate)) / per_arm
    )
    if error == 0:
        return 0.0
    z = normal_ppf(1 - alpha / 2)
    gap = abs(challenger_rate - control_rate)
    return normal_cdf((gap - z * null_error) / error) + normal_cdf((-gap - z * null_error) / error)


def detectable_difference(rate: float, per_arm: int, *, alpha: float, power: float = 0.8) -> float:
    """The smallest absolute lift over ``rate`` found with ``power`` at ``per_arm`` recipients
    per arm: what a test of this size can tell apart (shown before a test starts)."""
    if per_arm <= 0 or not 0 < rate < 1:
        return 1.0
    low, high = 0.0, 1.0 - rate
    for _ in range(60):
        middle = (low + high) / 2
        if power_of_rates(rate, rate + middle, per_arm, alpha=alpha) < power:
            low = middle
        else:
            high = middle
    return high


def json_safe(value: Any) -> Any:
    """``value`` with every infinite or NaN float made None: JSON has no infinity, and an
    interval of an arm with nobody in it is unbounded."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return value
