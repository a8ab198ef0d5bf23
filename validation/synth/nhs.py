"""NHS number check (spec 6.5) and a vectorised generator of valid, unique numbers.

Synthetic numbers come from the ``999`` prefix range (the NHS test-number range, never issued to real
patients) while it is large enough; bigger files widen to the ``9`` range.
"""

from __future__ import annotations

import numpy as np

_WEIGHTS = np.array([10, 9, 8, 7, 6, 5, 4, 3, 2], dtype=np.int64)


def is_valid_nhs_number(value: str | None) -> bool:
    """Spec 6.5: 10 ASCII digits, modulus-11 check digit, not a palindrome."""
    if value is None:
        return False
    v = value.strip()
    if len(v) != 10 or not v.isascii() or not v.isdigit():
        return False
    digits = [int(c) for c in v]
    s = sum(d * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    c = 11 - s % 11
    if c == 11:
        c = 0
    if c == 10 or c != digits[9]:
        return False
    return v[:5] != v[5:][::-1]


def _check_digits(bases: np.ndarray) -> np.ndarray:
    """Check digit for 9-digit integer bases; 10 where no valid check digit exists."""
    digits = (bases[:, None] // (10 ** np.arange(8, -1, -1, dtype=np.int64))) % 10
    c = 11 - (digits @ _WEIGHTS) % 11
    return np.where(c == 11, 0, c)


def _palindrome(numbers: np.ndarray) -> np.ndarray:
    digits = (numbers[:, None] // (10 ** np.arange(9, -1, -1, dtype=np.int64))) % 10
    return np.all(digits[:, :5] == digits[:, :4:-1], axis=1)


def valid_nhs_numbers(rng: np.random.Generator, n: int, *, low: int = 999_000_000) -> np.ndarray:
    """``n`` distinct valid NHS numbers (int64, 10 digits) drawn from bases ``low`` .. 999_999_999."""
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    span = 1_000_000_000 - low
    if n > span * 0.8:  # about 9 in 11 bases give a usable check digit
        low = 900_000_000 if low > 900_000_000 and n <= 80_000_000 else 100_000_000
        span = 1_000_000_000 - low
    want = int(n * 1.25) + 64
    while True:
        if span <= 4 * want:
            bases = low + rng.permutation(span)[:want].astype(np.int64)
        else:
            bases = np.unique(low + rng.integers(0, span, size=want, dtype=np.int64))
            bases = bases[rng.permutation(bases.size)]
        check = _check_digits(bases)
        numbers = bases * 10 + check
        ok = (check != 10) & ~_palindrome(numbers)
        numbers = numbers[ok]
        if numbers.size >= n:
            return numbers[:n]
        want *= 2
