import json
import tempfile
import unittest
from pathlib import Path

import fixtures
from benchkit import results
from benchkit.proc import Run
from benchkit.report import page


class Results(unittest.TestCase):
    def test_keys_and_runs_come_back_as_they_were(self):
        run = Run(0.5, 0.25, 4096, {"ns": "123"}, machine=(1.5, 0.1), server_cpus=0.9)
        data = {"apply": {(10, "delete", "per", "raw-per"): [run]}, "fk": {0: 1, 1_000_000: 2},
                "names": {"n10000-proto": "x"}, "load": (1.0, 2.0), "none": None}
        back, settings = results.loads(results.dumps("full", data), "full")
        self.assertIsNone(settings)
        self.assertEqual(back["apply"], {(10, "delete", "per", "raw-per"): [run]})
        self.assertEqual(back["fk"], {0: 1, 1_000_000: 2})
        self.assertEqual(back["names"], {"n10000-proto": "x"})
        self.assertEqual(back["load"], [1.0, 2.0])
        self.assertIsNone(back["none"])

    def test_the_json_holds_ids_and_a_schema_version(self):
        data, settings = fixtures.full(quick=True)
        document = json.loads(results.dumps("quick", data, settings))
        self.assertEqual(document["schema"], results.SCHEMA)
        self.assertEqual(document["kind"], "quick")
        self.assertEqual(document["settings"]["ns"], [10, 100])
        self.assertIn("10/delete/per/raw-per", document["results"]["apply"])
        self.assertNotIn("raw floor", json.dumps(document["results"]["apply"]))

    def test_ids_that_would_not_come_back_are_refused(self):
        for bad in ("1000", "a/b", ""):
            with self.assertRaises(ValueError):
                results.dumps("full", {bad: 1})
        with self.assertRaises(TypeError):
            results.dumps("full", {"x": Path("/")})

    def test_another_schema_or_kind_is_refused(self):
        text = results.dumps("full", {})
        with self.assertRaises(SystemExit):
            results.loads(text.replace(f'"schema": {results.SCHEMA}', '"schema": 0'), "full")
        with self.assertRaises(SystemExit):
            results.loads(text, "postgres")

    def test_the_page_from_saved_results_is_the_page_from_the_run(self):
        for quick in (False, True):
            data, settings = fixtures.full(quick=quick)
            with tempfile.TemporaryDirectory() as folder:
                saved = results.save("quick" if quick else "full", data, settings, Path(folder) / "r.json")
                back, back_settings = results.load("quick" if quick else "full", saved)
            self.assertEqual(back_settings, settings)
            self.assertEqual(page.render(back_settings, back), page.render(settings, data))


if __name__ == "__main__":
    unittest.main()
