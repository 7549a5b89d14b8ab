"""What the CLI prints: tables for people (dollars formatted), CSV for scripts (plain numbers), Markdown escaped."""

import csv
import io

from costplan_client.output import View, as_csv, as_markdown, usd


def test_money_reads_as_dollars_in_tables_and_as_plain_numbers_in_csv():
    view = View("t", ["option", "monthly"], [["a", usd(1410.0)], ["credit", usd(-520.0)], ["none", usd(None)]])
    assert [str(r[1]) for r in view.rows] == ["$1,410.00", "-$520.00", ""]
    assert list(csv.reader(io.StringIO(as_csv(view)))) == [["option", "monthly"], ["a", "1410.0"],
                                                            ["credit", "-520.0"], ["none", ""]]


def test_markdown_cells_cannot_break_the_table():
    md = as_markdown(View("x|y", ["a"], [["p|q\nr"]], notes=["n"], warnings=["W f: m"]))
    assert "| p\\|q r |" in md and md.startswith("### x\\|y") and "- warning W f: m" in md
