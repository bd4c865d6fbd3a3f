"""The charts, one per module, each drawn with the primitives of `render/svg.py` and returned
as a data URI; `report_charts` is every chart the HTML report embeds."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..graph_layout import diagram_fits
from .forecast import forecast_chart
from .history import history_chart
from .state_history import state_history_charts
from .structure import dag_chart

if TYPE_CHECKING:
    from ...analysis.report_document import ReportDocument


def report_charts(document: ReportDocument) -> dict:
    """Every chart the HTML report embeds, as data URIs (history is None without snapshots;
    structure is None past the size a diagram stays legible at; state_history maps each
    question of more outcomes with a history to its chart)."""
    return {
        "forecast": forecast_chart(document),
        "history": history_chart(document),
        "state_history": state_history_charts(document),
        "structure": dag_chart(document) if diagram_fits(document["nodes"]) else None,
    }
