"""The multi-window, multi-burn-rate recipe (Google SRE workbook, "Alerting on SLOs", table 5-8) over a 30-day
period: a page when the budget burns fast enough to be gone in days, a ticket when it would be gone within the
period. Each alert needs a long window (enough evidence) AND a short one (still burning now, so it clears soon
after recovery); the two pairs of a severity are OR-ed.

Thresholds are derived from the objective, never written down: threshold = burn rate * (1 - objective). For
99.5 % that gives 0.072, 0.03, 0.015 and 0.005 (REFERENCE: SLOs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from components.observability.config import FASTEST_PAGE_BURN

Severity = Literal["page", "ticket"]
PERIOD_DAYS = 30


@dataclass(frozen=True)
class BurnWindow:
    severity: Severity
    long: str  # Prometheus duration of the long window
    short: str
    burn_rate: float  # how many times faster than "exactly the budget in the period"

    def threshold(self, objective: float) -> float:
        """The error ratio above which both windows must be for this pair to alert (objective as a ratio)."""
        return round(self.burn_rate * error_budget(objective), 10)


WINDOWS: tuple[BurnWindow, ...] = (
    BurnWindow("page", "1h", "5m", FASTEST_PAGE_BURN),  # 14.4: 2 % of the 30-day budget in one hour
    BurnWindow("page", "6h", "30m", 6),  # 5 % in six hours
    BurnWindow("ticket", "1d", "2h", 3),  # 10 % in a day
    BurnWindow("ticket", "3d", "6h", 1),  # 10 % in three days
)
# every window a rule reads, shortest first: the SLI is recorded once per window
RATE_WINDOWS: tuple[str, ...] = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
PERIOD_WINDOW = f"{PERIOD_DAYS}d"


def error_budget(objective: float) -> float:
    """The error ratio the objective allows over the period (objective as a ratio, e.g. 0.995 -> 0.005)."""
    return round(1 - objective, 10)


def lowest_alertable_objective() -> float:
    """Below this objective the fastest page could never fire: its threshold would exceed an error ratio of 1."""
    fastest = max(window.burn_rate for window in WINDOWS)
    return 1 - 1 / fastest
