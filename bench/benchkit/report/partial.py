"""What a partial run writes into an existing page: its regions, every other byte of the
page left as it was."""

from __future__ import annotations

from ..results import Settings
from . import analysis, fanout, postgres, splice, startup
from .page import ANALYSIS


def _body(lines: list[str]) -> str:
    """A region's body from a section's lines (which end with an empty line)."""
    return "\n".join(lines) + "\n"


def _lines(body: str) -> list[str]:
    return body[:-1].split("\n") if body.endswith("\n") else body.split("\n")


def postgres_page(text: str, data: dict) -> str:
    """Section 6 and the analysis's PostgreSQL subsection replaced (or added)."""
    part = analysis.part(ANALYSIS.read_text(), "analysis-postgres").format(**postgres.fields(data))
    text = splice.splice(text, "postgres", _body(postgres.section(data)), before=("fanout", "analysis-intro"))
    return splice.splice(text, "analysis-postgres", part, before=("analysis-fanout", "indexes"))


def fanout_page(text: str, data: dict) -> str:
    """Section 7 and the analysis's fan-out subsection replaced (or added)."""
    part = analysis.part(ANALYSIS.read_text(), "analysis-fanout").format(**fanout.fields(data))
    text = splice.splice(text, "fanout", _body(fanout.section(data)), before=("analysis-intro",))
    return splice.splice(text, "analysis-fanout", part, before=("indexes",))


def startup_page(text: str, s: Settings, data: dict) -> str:
    """The start-up rows replaced with this run's: the two start-up target rows, section 2,
    the analysis's introduction and its start-up subsection; a note under the targets'
    heading and in the page's first paragraph says they come from a later run."""
    written = splice.region(text, "written")
    if written is not None and startup.LATER_ROWS not in written:
        written = written.replace("below comes from that run;", f"below comes from that run{startup.LATER_ROWS};", 1)
        text = splice.splice(text, "written", written)
    targets = splice.region(text, "targets")
    if targets is None:
        text = splice.splice(text, "targets", "")  # the error: no such region
    lines = [line for line in _lines(targets) if not line.startswith(startup.NOTE)]
    rows = [i for i, line in enumerate(lines) if line.startswith("| start-up check")]
    lines[rows[0]:rows[-1] + 1] = startup.target_rows(s, data)
    # lines[0] is the heading, lines[1] the empty line after it.
    if lines[2] == "":
        del lines[2]  # the empty line after a previous note
    lines[2:2] = [startup.note(s, data), ""]
    text = splice.splice(text, "targets", _body(lines))
    text = splice.splice(text, "startup", _body(startup.section(s, data)))
    fields = startup.fields(s, data)
    template = ANALYSIS.read_text()
    for region_id in ("analysis-intro", "analysis-startup"):
        text = splice.splice(text, region_id, analysis.part(template, region_id).format(**fields))
    return text
