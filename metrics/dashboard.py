"""What the console's dashboard shows for a period and filters: the headline figures, and each chart with the table
behind it (the same rows go to its CSV). Read from the daily aggregate (metrics/daily.py); every rate uses the
formulas of `make kpi` (metrics/conversations.py)."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Dict, List, Optional

from actions.outcomes import ABANDONED, OUTCOMES
from common.state import kpi_daily
from metrics import daily
from metrics.conversations import MAU_DAYS, fallback_rate, journeys, nps_of, rates_of

TOP_INTENTS = 10


@dataclass
class Chart:
    """One chart: Chart.js's type, its x labels and series; `columns` and `rows` are the table (and CSV)."""

    id: str
    title: str
    type: str
    labels: List[str]
    series: Dict[str, List[Optional[float]]]
    columns: List[str] = field(default_factory=list)
    rows: List[List[Any]] = field(default_factory=list)
    stacked: bool = False
    horizontal: bool = False

    def __post_init__(self):
        if not self.columns:  # by default the table is the labels then each series
            self.columns = [""] + list(self.series)
            self.rows = [
                [label] + [values[i] for values in self.series.values()] for i, label in enumerate(self.labels)
            ]


def rounded(value: Optional[float], digits: int = 1) -> Optional[float]:
    return None if value is None else round(value, digits)


def percent(value: Optional[float]) -> Optional[float]:
    return None if value is None else round(100 * value, 1)


def build(first: date, last: date, filters: Dict[str, Optional[str]], refresh: bool = True) -> Dict[str, Any]:
    """Headline figures and charts for the days first..last, over the groups the filters keep."""
    if refresh:  # the 29 days before too: the first days' monthly active users are counted from them
        daily.refresh(first - timedelta(days=MAU_DAYS - 1), last)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    per_day = kpi_daily.daily_figures(first, last, filters)
    empty = {name: 0 for name in kpi_daily.FIGURES}
    rows = [per_day.get(d, empty) for d in days]
    labels = [d.isoformat() for d in days]
    total = {name: sum(r[name] for r in rows) for name in kpi_daily.FIGURES}
    outcome_names = OUTCOMES + (ABANDONED,)
    totals = rates_of({name: total[name] for name in outcome_names + ("in_progress",)})
    score = nps_of(total["promoters"], total["passives"], total["detractors"])
    named = kpi_daily.named_counts(first, last, filters)

    day_rates = [rates_of({name: r[name] for name in outcome_names + ("in_progress",)}) for r in rows]
    day_nps = [nps_of(r["promoters"], r["passives"], r["detractors"]) for r in rows]
    intents = sorted(named["intent"].items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_INTENTS]
    names = sorted(set(journeys()) & (set(named["journey_started"]) | set(named["journey_completed"])))

    charts = [
        Chart(
            "active_users",
            "Daily and monthly active users",
            "line",
            labels,
            {
                "daily active users": [r["active_users"] for r in rows],
                "monthly active users (30 days)": [r["monthly_active_users"] for r in rows],
            },
        ),
        Chart(
            "outcomes",
            "Conversations per day by outcome",
            "bar",
            labels,
            {name.replace("_", " "): [r[name] for r in rows] for name in outcome_names + ("in_progress",)},
            stacked=True,
        ),
        Chart(
            "rates",
            "Deflection and containment rates (%)",
            "line",
            labels,
            {
                "deflection %": [percent(r["deflection_rate"]) for r in day_rates],
                "containment %": [percent(r["containment_rate"]) for r in day_rates],
            },
        ),
        Chart(
            "nps",
            "NPS per day, with the number of answers",
            "bar",
            labels,
            {"NPS": [rounded(n["nps"]) for n in day_nps], "answers": [n["responses"] for n in day_nps]},
        ),
        Chart(
            "fallback",
            "Fallback rate (% of customer messages not understood)",
            "line",
            labels,
            {"fallback %": [percent(fallback_rate(r["customer_messages"], r["fallbacks"])) for r in rows]},
        ),
        Chart(
            "intents",
            "Top intents (customer messages)",
            "bar",
            [i for i, _ in intents],
            {"messages": [n for _, n in intents]},
            horizontal=True,
        ),
        Chart(
            "journeys",
            "Journeys: conversations that started and completed each",
            "bar",
            names,
            {
                "started": [named["journey_started"].get(j, 0) for j in names],
                "completed": [named["journey_completed"].get(j, 0) for j in names],
            },
            horizontal=True,
        ),
        reasons_chart("ticket_reasons", "Ticket reasons", named["ticket_reason"]),
        reasons_chart("handoff_reasons", "Handoff reasons", named["handoff_reason"]),
    ]
    return {
        "period": {"from": first.isoformat(), "to": last.isoformat()},
        "filters": filters,
        "headline": {
            "daily_active_users_average": rounded(total["active_users"] / len(days), 2),
            "monthly_active_users": rows[-1]["monthly_active_users"],
            "conversations": totals["conversations"],
            "outcomes": totals["outcomes"],
            "deflection_rate": percent(totals["deflection_rate"]),
            "containment_rate": percent(totals["containment_rate"]),
            "nps": rounded(score["nps"]),
            "nps_responses": score["responses"],
            "fallback_rate": percent(fallback_rate(total["customer_messages"], total["fallbacks"])),
        },
        "charts": charts,
    }


def reasons_chart(chart_id: str, title: str, counts: Dict[str, int]) -> Chart:
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return Chart(
        chart_id, title, "bar", [r for r, _ in ordered], {"conversations": [n for _, n in ordered]}, horizontal=True
    )
