"""Random, balanced, reproducible assignment of an audience to test groups.

Blocked randomisation: the audience is streamed in id order in batches (blocks); in each block
a uniformly random subset of positions goes to the test, and a random permutation of the
groups' labels is dealt over them. How many places a block gets follows the running total, so
at every point the test holds ``share`` of the contacts seen so far (to within one), and the
groups differ in size by at most one. Blocking on id order also balances the groups on how long
people have been contacts, which a plain coin flip leaves to chance.

The random generator is seeded per test and consumed in order, so the same audience gives the
same split; the result is stored per recipient anyway (``Delivery.variant``, a
``FrequencyMember`` row), so nothing depends on recomputing it.
"""

from __future__ import annotations

import random
from collections.abc import Sequence


class BlockedAssignment:
    def __init__(self, labels: Sequence[str], *, share_percent: int, seed: int) -> None:
        if not labels:
            raise ValueError("at least one group")
        if not 0 < share_percent <= 100:
            raise ValueError(f"a share between 1 and 100 %, not {share_percent}")
        self.labels = tuple(labels)
        self.share_percent = share_percent
        self.random = random.Random(seed)  # noqa: S311 - a reproducible split, not a secret
        self.seen = 0
        self.placed = 0

    def assign(self, contact_ids: Sequence[int]) -> dict[int, str]:
        """The next block: contact id -> group label, for those in the test only."""
        self.seen += len(contact_ids)
        target = self.seen * self.share_percent // 100
        places = target - self.placed
        positions = self.random.sample(range(len(contact_ids)), places)
        # Dealt round-robin from where the last block stopped, so the groups stay within one.
        labels = [self.labels[(self.placed + n) % len(self.labels)] for n in range(places)]
        self.random.shuffle(labels)
        self.placed = target
        return {
            contact_ids[position]: label for position, label in zip(positions, labels, strict=True)
        }


def new_seed() -> int:
    """A seed for a new test, kept with it (fits a signed 64-bit column)."""
    return random.SystemRandom().randrange(2**62)
