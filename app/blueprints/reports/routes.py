"""Report pages: the report (page or, for htmx, its body) and each figure as CSV."""
import csv
import io

from flask import Blueprint, abort, make_response, request

from app import htmx, identity, policy
from app.blueprints.reports import figures

bp = Blueprint("reports", __name__, url_prefix="/reports")


@bp.before_request
def require_reports_reader():
    """Anonymous visitors log in first; only moderators and administrators may read reports (403 otherwise)."""
    return identity.require_back_office(policy.can_view_reports)


@bp.get("")
def index():
    """The report for the filters in the query; an htmx request gets only the report body."""
    filters = figures.ReportFilters.from_args(request.args)
    report = figures.build(filters)
    templates, customers, groups = figures.filter_choices()
    return htmx.render(
        "reports/index.html", block="report_body", report=report, filters=filters,
        templates=templates, customers=customers, groups=groups, periods=figures.PERIODS,
    )


@bp.get("/<name>.csv")
def csv_export(name):
    """One figure's rows as CSV (UTF-8 with BOM, so spreadsheet programs read the umlauts); 404 for other names."""
    if name not in figures.FIGURE_NAMES:
        abort(404)
    filters = figures.ReportFilters.from_args(request.args)
    figure = figures.one_figure(name, filters)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([str(header) for header in figure.headers])
    writer.writerows(["" if value is None else value for value in row] for row in figure.rows)
    response = make_response(out.getvalue())
    response.mimetype = "text/csv"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{name}-{filters.start.isoformat()}-{filters.end.isoformat()}.csv"'
    )
    return response
