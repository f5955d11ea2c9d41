"""The two-proportion z-test: is B's outcome rate different from A's by more than chance?

Pooled under "no difference": p = (x_a + x_b) / (n_a + n_b), standard error
sqrt(p (1 - p) (1/n_a + 1/n_b)), z = (rate_b - rate_a) / se, two-sided p-value erfc(|z| / sqrt 2).
The normal approximation is only fair with enough sends: below MIN_SENDS per variant, or with
fewer than MIN_EXPECTED expected outcomes (or non-outcomes) in a variant, no p-value is given
and the answer says there are too few sends to tell.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MIN_SENDS = 30
MIN_EXPECTED = 5


@dataclass(frozen=True)
class VariantCount:
    sends: int
    outcomes: int

    @property
    def rate(self) -> float | None:
        return self.outcomes / self.sends if self.sends else None


@dataclass(frozen=True)
class Comparison:
    a: VariantCount
    b: VariantCount
    enough: bool  # enough sends for the test to mean something
    z: float | None
    p_value: float | None

    @property
    def difference(self) -> float | None:
        """B's rate minus A's (percentage points / 100), when both have sends."""
        if self.a.rate is None or self.b.rate is None:
            return None
        return self.b.rate - self.a.rate


def enough_sends(a: VariantCount, b: VariantCount) -> bool:
    if min(a.sends, b.sends) < MIN_SENDS:
        return False
    pooled = (a.outcomes + b.outcomes) / (a.sends + b.sends)
    return all(n * pooled >= MIN_EXPECTED and n * (1 - pooled) >= MIN_EXPECTED for n in (a.sends, b.sends))


def compare(a: VariantCount, b: VariantCount) -> Comparison:
    """The test of B against A; z and p-value None when there are too few sends to tell."""
    for count in (a, b):
        if count.sends < 0 or not 0 <= count.outcomes <= count.sends:
            raise ValueError(f"outcomes must be between 0 and the sends: {count}")
    if not enough_sends(a, b):
        return Comparison(a, b, False, None, None)
    pooled = (a.outcomes + b.outcomes) / (a.sends + b.sends)
    se = math.sqrt(pooled * (1 - pooled) * (1 / a.sends + 1 / b.sends))
    z = (b.outcomes / b.sends - a.outcomes / a.sends) / se
    return Comparison(a, b, True, z, math.erfc(abs(z) / math.sqrt(2)))
