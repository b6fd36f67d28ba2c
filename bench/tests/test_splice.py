import unittest

import fixtures  # noqa: F401  (puts bench/ on the path)
from benchkit.report import splice

PAGE = """# Page

<!-- begin:one -->
## 1. One
body one

<!-- end:one -->
## 2. Between, written by nobody

<!-- begin:two -->
## 3. Two
<!-- end:two -->
tail
"""


class Splice(unittest.TestCase):
    def test_region_reads_the_body_between_the_markers(self):
        self.assertEqual(splice.region(PAGE, "one"), "## 1. One\nbody one\n\n")
        self.assertEqual(splice.region(PAGE, "two"), "## 3. Two\n")
        self.assertIsNone(splice.region(PAGE, "three"))
        self.assertEqual(splice.regions(PAGE), ["one", "two"])

    def test_splice_replaces_one_body_and_keeps_every_other_byte(self):
        out = splice.splice(PAGE, "one", "## 1. New\n")
        self.assertEqual(splice.region(out, "one"), "## 1. New\n")
        before, after = PAGE.split("<!-- end:one -->")
        new_before, new_after = out.split("<!-- end:one -->")
        self.assertEqual(new_after, after)
        self.assertEqual(new_before.split("<!-- begin:one -->")[0], before.split("<!-- begin:one -->")[0])

    def test_splice_adds_the_newline_a_body_lacks(self):
        out = splice.splice(PAGE, "two", "## 3. Two")
        self.assertEqual(out, PAGE)

    def test_splicing_the_same_body_twice_is_the_same_page(self):
        once = splice.splice(PAGE, "two", "x\ny\n")
        self.assertEqual(splice.splice(once, "two", "x\ny\n"), once)
        self.assertEqual(splice.splice(once, "two", "## 3. Two\n"), PAGE)

    def test_a_missing_region_goes_before_the_first_anchor_present(self):
        out = splice.splice(PAGE, "new", "## New\n", before=("absent", "two"))
        self.assertIn("<!-- begin:new -->\n## New\n<!-- end:new -->\n<!-- begin:two -->", out)
        self.assertEqual(splice.regions(out), ["one", "new", "two"])

    def test_a_missing_region_without_an_anchor_is_appended(self):
        out = splice.splice(PAGE, "new", "## New\n", before=())
        self.assertTrue(out.endswith("tail\n\n<!-- begin:new -->\n## New\n<!-- end:new -->\n"))

    def test_a_missing_region_with_no_fallback_is_an_error(self):
        with self.assertRaises(SystemExit):
            splice.splice(PAGE, "new", "x\n")

    def test_broken_markers_are_errors(self):
        with self.assertRaises(ValueError):
            splice.region("<!-- begin:a -->\nno end\n", "a")
        with self.assertRaises(ValueError):
            splice.region("<!-- begin:a -->\n<!-- end:a -->\n<!-- begin:a -->\n<!-- end:a -->\n", "a")

    def test_wrap_is_what_region_reads_back(self):
        self.assertEqual(splice.region(splice.wrap("x", "a\nb"), "x"), "a\nb\n")


if __name__ == "__main__":
    unittest.main()
