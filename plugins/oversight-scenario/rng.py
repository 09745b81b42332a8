"""splitmix64: the only source of variation in an episode.

Seeded from `open`'s seed, never from Python's `random` or the clock, so the
same condition and seed always give the same bytes. The same few lines give
the same numbers in any language.
"""

MASK = (1 << 64) - 1


class Rng:
    def __init__(self, seed: int):
        self.state = seed & MASK

    def next(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def below(self, n: int) -> int:
        """A number in [0, n). The modulo bias is negligible for small n."""
        return self.next() % n

    def between(self, low: int, high: int) -> int:
        """A number in [low, high], both included."""
        return low + self.below(high - low + 1)

    def pick(self, items):
        return items[self.below(len(items))]
