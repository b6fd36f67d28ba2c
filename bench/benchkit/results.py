"""The saved results: versioned JSON in bench/target/ (one file per kind of run), keyed
by stable ids, never by the page's labels.

A results value is made of dicts (kept in their order: the page lists some in it), lists, strings, numbers, `None` and `Run`s. A dict's
keys are strings (ids: never all digits, never with a `/`), ints (N, row counts) or
tuples of those (`(n, journal, group, id)`); in JSON they are strings, a tuple's parts
joined with `/`, and read back to the same types. A `Run` is `{"$run": {...}}`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from .proc import TARGET, Run

# Raised when the shape of the results changes: an older file is refused, not misread.
SCHEMA = 1
KINDS = ("full", "quick", "check", "postgres", "fanout")


@dataclass
class Settings:
    """How a run was made: what the report needs of its command line."""

    quick: bool
    reps: int
    ns: list[int]
    journals: list[str]
    # The repeats of a later `only check` merged into these results.
    reps_check: int | None = None


def encode_key(key) -> str:
    if isinstance(key, tuple):
        return "/".join(encode_key(part) for part in key)
    if isinstance(key, bool):
        raise TypeError(f"a bool as a results key: {key!r}")
    if isinstance(key, int):
        return str(key)
    if isinstance(key, str):
        if not key or key.isdigit() or "/" in key:
            raise ValueError(f"a results id must not be empty, all digits or hold a `/`: {key!r}")
        return key
    raise TypeError(f"not a results key: {key!r}")


def decode_key(text: str):
    parts = [int(part) if part.isdigit() else part for part in text.split("/")]
    return tuple(parts) if len(parts) > 1 else parts[0]


def encode(value):
    """`value` as JSON-ready data."""
    if isinstance(value, Run):
        return {"$run": value.to_json()}
    if isinstance(value, dict):
        return {encode_key(key): encode(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(item) for item in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"not a results value: {value!r}")


def decode(value):
    """The inverse of `encode` (tuples come back as lists)."""
    if isinstance(value, dict):
        if set(value) == {"$run"}:
            return Run.from_json(value["$run"])
        return {decode_key(key): decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decode(item) for item in value]
    return value


def path(kind: str) -> Path:
    """Where the last run of `kind` is saved."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of results: {kind}")
    return TARGET / "results" / f"{kind}.json"


def dumps(kind: str, data: dict, settings: Settings | None = None) -> str:
    document = {"schema": SCHEMA, "kind": kind, "results": encode(data)}
    if settings is not None:
        document["settings"] = asdict(settings)
    return json.dumps(document, indent=1) + "\n"


def loads(text: str, kind: str) -> tuple[dict, Settings | None]:
    document = json.loads(text)
    if document.get("schema") != SCHEMA:
        raise SystemExit(f"saved results of schema {document.get('schema')}, this driver reads "
                         f"schema {SCHEMA}: run the benchmark again")
    if document.get("kind") != kind:
        raise SystemExit(f"saved results of a {document.get('kind')} run where a {kind} run's were expected")
    settings = document.get("settings")
    return decode(document["results"]), Settings(**settings) if settings is not None else None


def save(kind: str, data: dict, settings: Settings | None = None, to: Path | None = None) -> Path:
    to = to or path(kind)
    to.parent.mkdir(parents=True, exist_ok=True)
    to.write_text(dumps(kind, data, settings))
    return to


def load(kind: str, source: Path | None = None) -> tuple[dict, Settings | None]:
    source = source or path(kind)
    if not source.exists():
        raise SystemExit(f"no saved results at {source}: run the benchmark first")
    return loads(source.read_text(), kind)


def exists(kind: str) -> bool:
    return path(kind).exists()
