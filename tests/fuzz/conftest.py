"""Hypothesis settings for the fuzz tests.

Profile "ci" (the default, what `make test` and CI use) is reproducible and bounded:
derandomize=True makes every run try the same examples, deadline=None keeps a slow, loaded
machine from failing an example for its speed, and no example database is written. Profile
"explore" (HYPOTHESIS_PROFILE=explore) draws fresh random examples, FUZZ_SCALE times as many.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

SCALE = max(1, int(os.environ.get("FUZZ_SCALE", "1")))
_COMMON = {
    "deadline": None,
    "database": None,
    "print_blob": True,
    "suppress_health_check": [
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
}
# CI reports the first failing example as found: shrinking one through a fake provider's many
# draws can take minutes, and the failure text already names the call and the exception.
settings.register_profile(
    "ci",
    derandomize=True,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    **_COMMON,
)
settings.register_profile("explore", derandomize=False, **_COMMON)
PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def fuzz(max_examples: int) -> settings:
    """Settings for one fuzz test: the profile, with its example budget (times FUZZ_SCALE)."""
    return settings(PROFILE, max_examples=max_examples * SCALE)
