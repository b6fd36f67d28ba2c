"""The regions of a page that a command writes on its own, between explicit markers:

    <!-- begin:ID -->
    ...the region's body...
    <!-- end:ID -->

The full report writes every region (and the text around them); a partial run
(`only check`, `only postgres`, `only fanout`, bench/indexes.py) replaces the body of
its regions and leaves every other byte of the page as it was. bench/analysis.md holds
the markers of the analysis's regions, so its parts are read the same way.
"""

from __future__ import annotations

from pathlib import Path


def begin(region_id: str) -> str:
    return f"<!-- begin:{region_id} -->"


def end(region_id: str) -> str:
    return f"<!-- end:{region_id} -->"


def wrap(region_id: str, body: str) -> str:
    """The region with its markers, each on a line of its own; `body` ends with a newline."""
    return f"{begin(region_id)}\n{_ended(body)}{end(region_id)}"


def _ended(body: str) -> str:
    return body if body.endswith("\n") else body + "\n"


def _span(text: str, region_id: str) -> tuple[int, int] | None:
    """Where the body of the region is (after its begin line, up to its end marker)."""
    opening = begin(region_id) + "\n"
    start = text.find(opening)
    if start == -1:
        return None
    if text.find(opening, start + 1) != -1:
        raise ValueError(f"the region {region_id} is in the page twice")
    body = start + len(opening)
    stop = text.find(end(region_id), body)
    if stop == -1:
        raise ValueError(f"the region {region_id} has no end marker")
    return body, stop


def region(text: str, region_id: str) -> str | None:
    """The body of the region, or None when the text does not hold it."""
    span = _span(text, region_id)
    return None if span is None else text[span[0]:span[1]]


def regions(text: str) -> list[str]:
    """The ids of the regions in the text, in order."""
    found = []
    marker = "<!-- begin:"
    at = text.find(marker)
    while at != -1:
        found.append(text[at + len(marker):text.index(" -->", at)])
        at = text.find(marker, at + 1)
    return found


def splice(text: str, region_id: str, body: str, before: tuple[str, ...] | None = None) -> str:
    """`text` with the body of the region replaced by `body`. A region the text lacks is
    added, with its markers, before the first of the regions `before` that the text
    holds, or at its end; with `before` None, a missing region is an error."""
    body = _ended(body)
    span = _span(text, region_id)
    if span is not None:
        return text[:span[0]] + body + text[span[1]:]
    if before is None:
        raise SystemExit(f"the page has no region {region_id} (no `{begin(region_id)}` line): "
                         "write the whole page with a full run first")
    for anchor in before:
        at = text.find(begin(anchor) + "\n")
        if at != -1:
            return text[:at] + wrap(region_id, body) + "\n" + text[at:]
    return text.rstrip("\n") + "\n\n" + wrap(region_id, body) + "\n"


def splice_file(page: Path, updates: list[tuple[str, str, tuple[str, ...] | None]]) -> None:
    """Each (id, body, before) of `updates` spliced into the file `page`."""
    text = page.read_text()
    for region_id, body, before in updates:
        text = splice(text, region_id, body, before)
    page.write_text(text)
