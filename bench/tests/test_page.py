import unittest

import fixtures
from benchkit.proc import ROOT
from benchkit.report import page, partial, splice

PAGE_REGIONS = ["written", "targets", "startup", "postgres", "fanout",
                "analysis-intro", "analysis-startup", "analysis-postgres", "analysis-fanout"]


def outside(text: str, ids: list[str]) -> str:
    """The page with the bodies of `ids` emptied: what a splice of them must not touch."""
    for region_id in ids:
        text = splice.splice(text, region_id, "")
    return text


class Page(unittest.TestCase):
    def test_the_full_page_holds_every_region_in_order(self):
        data, s = fixtures.full()
        self.assertEqual(splice.regions(page.render(s, data)), PAGE_REGIONS)

    def test_the_quick_page_has_no_analysis(self):
        data, s = fixtures.full(quick=True)
        text = page.render(s, data)
        self.assertEqual(splice.regions(text), PAGE_REGIONS[:5])
        self.assertIn("Not measured in this run (`--quick`)", text)

    def test_the_committed_page_holds_the_regions_the_splices_write(self):
        text = (ROOT / "docs" / "performance.md").read_text()
        self.assertEqual(splice.regions(text), [*PAGE_REGIONS, "indexes"])

    def test_each_partial_run_changes_only_its_regions(self):
        text = (ROOT / "docs" / "performance.md").read_text()
        data, s = fixtures.full()
        cases = [
            (lambda t: partial.postgres_page(t, {"postgres": data["postgres"]}), ["postgres", "analysis-postgres"]),
            (lambda t: partial.fanout_page(t, {"fanout": data["fanout"]}), ["fanout", "analysis-fanout"]),
            (lambda t: partial.startup_page(t, s, {**data, "startup_date": "2026-12-09"}),
             ["written", "targets", "startup", "analysis-intro", "analysis-startup"]),
        ]
        for change, ids in cases:
            new = change(text)
            self.assertNotEqual(new, text)
            self.assertEqual(outside(new, ids), outside(text, ids))
            self.assertEqual(change(new), new)

    def test_the_startup_splice_notes_the_later_run_once(self):
        data, s = fixtures.full()
        text = page.render(s, data)
        later = {**data, "startup_date": "2026-12-09"}
        once = partial.startup_page(text, s, later)
        self.assertEqual(once.count("**The start-up rows were rerun on 2026-12-09**"), 1)
        self.assertEqual(once.count("comes from that run, except the rows a note says come from a later run"), 1)
        self.assertEqual(partial.startup_page(once, s, later), once)

    def test_a_page_without_a_section_gets_it_before_the_analysis(self):
        data, s = fixtures.full()
        text = page.render(s, {k: v for k, v in data.items() if k != "postgres"})
        bare = text.replace(splice.wrap("postgres", splice.region(text, "postgres")) + "\n", "")
        bare = bare.replace(splice.wrap("analysis-postgres", splice.region(bare, "analysis-postgres")) + "\n", "")
        self.assertNotIn("postgres", splice.regions(bare))
        added = partial.postgres_page(bare, {"postgres": data["postgres"]})
        self.assertEqual(splice.regions(added), PAGE_REGIONS)


if __name__ == "__main__":
    unittest.main()
