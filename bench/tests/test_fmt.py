import unittest

import fixtures  # noqa: F401  (puts bench/ on the path)
from benchkit.report import fmt


class Fmt(unittest.TestCase):
    def test_ms_keeps_three_figures(self):
        self.assertEqual(fmt.ms(1.2345), "1,234 ms")
        self.assertEqual(fmt.ms(0.1), "100 ms")
        self.assertEqual(fmt.ms(0.0123), "12.3 ms")
        self.assertEqual(fmt.ms(0.00123), "1.23 ms")
        self.assertEqual(fmt.ms(0.000123), "0.123 ms")

    def test_ratio_mib_and_signs(self):
        self.assertEqual(fmt.ratio(3, 2), "1.50x")
        self.assertEqual(fmt.mib(1536), "1.5 MiB")
        self.assertEqual(fmt.signed_mib(1536), "+1.5 MiB")
        self.assertEqual(fmt.signed_mib(-512), "-0.5 MiB")
        self.assertEqual(fmt.signed_mib(0), "+0.0 MiB")

    def test_verdict_count_median(self):
        self.assertEqual(fmt.verdict(True), "**met**")
        self.assertEqual(fmt.verdict(False), "**missed**")
        self.assertEqual(fmt.count(1234567), "1,234,567")
        self.assertEqual(fmt.count(None), "n/a")
        self.assertEqual(fmt.med([3, 1, 2]), 2)
        self.assertEqual(fmt.med([1, 2, 3, 4]), 2.5)


if __name__ == "__main__":
    unittest.main()
