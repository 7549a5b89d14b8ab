"""The invoice endpoints' entry points: analyze and simulate."""

from costplan.services.invoice_analyze import analyze_parsed
from costplan.services.invoice_parse import parse
from costplan.services.invoice_simulate import simulate as run_scenarios
from costplan_contracts.invoice import AnalyzeRequest, AnalyzeResponse, SimulateRequest, SimulateResponse


def analyze(req: AnalyzeRequest, cost_explorer=None) -> AnalyzeResponse:
    return analyze_parsed(parse(req.invoice, cost_explorer), req.invoice.format)


def simulate(req: SimulateRequest, cost_explorer=None) -> SimulateResponse:
    analysis = req.analysis or analyze(AnalyzeRequest(invoice=req.invoice), cost_explorer)
    return run_scenarios(analysis, req.scenarios)
