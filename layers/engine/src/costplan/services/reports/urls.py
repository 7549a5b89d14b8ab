"""Where a report lives: its status URL, and the object keys of its request and files."""

from costplan_contracts.enums import ReportFormat

EXTENSIONS = {ReportFormat.JSON: "json", ReportFormat.CSV: "csv", ReportFormat.MARKDOWN: "md",
              ReportFormat.HTML: "html"}


def status_url(rid: str) -> str:
    return f"/api/v1/report/{rid}"


def file_key(rid: str, fmt: ReportFormat) -> str:
    return f"reports/{rid}/report.{EXTENSIONS[fmt]}"


def request_key(rid: str) -> str:
    return f"jobs/{rid}/request.json"
