"""Hostile mapping files are refused at once with one line that names the limit they hit:
size, nesting depth, number of entries, and YAML anchors and aliases (billion laughs). The
YAML loader stays safe (no tag runs code), and mappings within the limits read as before."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from caselib.domain.ingest.mapping import (
    MAX_BYTES,
    MAX_DEPTH,
    MAX_ENTRIES,
    MappingLimitError,
    _load_yaml,
    read_mapping,
)
from caselib.errors import CaselibError, MappingError

CASELIB = [sys.executable, "-m", "caselib"]
DEEP = 50_000


def billion_laughs() -> str:
    """Nine levels of nine aliases inside ``values:``: 9**9 strings once expanded."""
    lines = ["values:", "  channel:", '    l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 9):
        refs = ", ".join([f"*l{level - 1}"] * 9)
        lines.append(f"    l{level}: &l{level} [{refs}]")
    return "\n".join(lines) + "\n"


HOSTILE = {
    "laughs.yaml": (billion_laughs(), "aliases", "anchor or alias"),
    "deep-flow.yaml": ("values: " + "[" * DEEP + "]" * DEEP + "\n", "depth", f"limit of {MAX_DEPTH} levels"),
    "deep-map.yaml": ("values: " + "{a: " * DEEP + "b" + "}" * DEEP + "\n", "depth", f"limit of {MAX_DEPTH} levels"),
    "deep-block.yaml": ("".join(" " * i + "a:\n" for i in range(200)), "depth", f"limit of {MAX_DEPTH} levels"),
    "deep-array.toml": ("values = " + "[" * DEEP + "]" * DEEP + "\n", "depth", f"limit of {MAX_DEPTH} levels"),
    "deep-inline.toml": ("values = " + "{a = " * DEEP + "1" + "}" * DEEP + "\n", "depth", f"limit of {MAX_DEPTH} levels"),
    "deep-header.toml": ("[values." + ".".join(["a"] * DEEP) + "]\nx = 'y'\n", "depth", f"limit of {MAX_DEPTH} levels"),
    "deep-key.toml": ("values." + ".".join(["a"] * DEEP) + " = 'y'\n", "depth", f"limit of {MAX_DEPTH} levels"),
    "huge.toml": ("[values.channel]\n" + "".join(f"v{i} = 'web'\n" for i in range(90_000)), "size", f"limit of {MAX_BYTES:,} bytes"),
    "many.toml": ("[values.channel]\n" + "".join(f"v{i} = 'web'\n" for i in range(20_000)), "entries", f"limit of {MAX_ENTRIES:,} entries"),
    "many.yaml": ("values:\n  channel:\n" + "".join(f"    v{i}: web\n" for i in range(20_000)), "entries", f"limit of {MAX_ENTRIES:,} entries"),
    "many-items.toml": ("contact = [" + "'a'," * 200_000 + "]\n", "entries", f"limit of {MAX_ENTRIES:,} entries"),
    "many-items.yaml": ("contact: [" + "a," * 200_000 + "]\n", "entries", f"limit of {MAX_ENTRIES:,} entries"),
}


@pytest.fixture(scope="module")
def tips_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tips") / "tips.csv"
    path.write_text("tip_id,object_id,received_at\nT1,G01,2017-06-01T10:00:00Z\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_mapping_is_refused_by_the_cli_at_once_with_one_line(tmp_path, tips_file, name):
    text, _limit, message = HOSTILE[name]
    mapping = tmp_path / name
    mapping.write_text(text, encoding="utf-8")
    started = time.monotonic()
    result = subprocess.run(
        [*CASELIB, "--db", str(tmp_path / "case.duckdb"), "load", "tips", "--no-refresh", str(tips_file), "--mapping", str(mapping)],
        capture_output=True,
        text=True,
        timeout=60,  # the code before the limits ran 68 s (billion laughs); fail, do not hang
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 1, result.stderr
    assert not (tmp_path / "case.duckdb").exists(), "a refused mapping left a new, empty database"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"caselib: error: the mapping file {name} ")
    assert message in lines[0]
    assert elapsed < 5, f"refused after {elapsed:.2f} s"


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_each_limit_is_a_mapping_error_naming_it_and_is_quick(tmp_path, name):
    text, limit, message = HOSTILE[name]
    mapping = tmp_path / name
    mapping.write_text(text, encoding="utf-8")
    started = time.perf_counter()
    with pytest.raises(MappingLimitError) as raised:
        read_mapping(mapping)
    assert time.perf_counter() - started < 1
    assert raised.value.limit == limit and message in str(raised.value)
    assert isinstance(raised.value, MappingError) and isinstance(raised.value, CaselibError)
    assert "\n" not in str(raised.value)
    again = pickle.loads(pickle.dumps(raised.value))
    assert (str(again), again.limit) == (str(raised.value), limit)


def test_an_endless_file_is_read_no_further_than_the_size_limit(tmp_path):
    mapping = tmp_path / "zero.toml"
    os.symlink("/dev/zero", mapping)
    with pytest.raises(MappingLimitError, match="larger than the limit") as raised:
        read_mapping(mapping)
    assert raised.value.limit == "size"


def test_anchors_are_refused_even_when_harmless(tmp_path):
    mapping = tmp_path / "anchors.yaml"
    mapping.write_text("values:\n  channel: &c {Webformular: web}\n  other: *c\n", encoding="utf-8")
    with pytest.raises(MappingLimitError, match=r"anchor or alias \(line 2\)"):
        read_mapping(mapping)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("!!python/object/apply:os.system ['touch pwned']\n", "could not determine a constructor"),
        ("values: !!python/name:os.system\n", "could not determine a constructor"),
        ("values: !custom {a: b}\n", "could not determine a constructor"),
        ("values: {channel: {a: b}}\n---\ncontact: []\n", "another document"),
        ("values: {channel: {web: 2017-02-30}}\n", "day is out of range"),
        ("values: {channel: {web: " + "1" * 5000 + "}}\n", "not valid"),
        ("values: {channel: {web: [a, b]}}\n", "must be one value, not a list"),
        ("values: [\n", "not valid"),
    ],
)
def test_unsafe_or_malformed_yaml_is_one_mapping_error(tmp_path, text, message):
    mapping = tmp_path / "bad.yaml"
    mapping.write_text(text, encoding="utf-8")
    with pytest.raises(MappingError, match=message) as raised:
        read_mapping(mapping)
    assert "\n" not in str(raised.value)
    assert not (tmp_path / "pwned").exists() and not Path("pwned").exists()


@pytest.mark.parametrize(
    "text",
    [
        "values:\n  channel:\n    Webformular: web\n    1: 2\n    yes: no\n    d: 2017-06-01\n"
        "  country: {Deutschland: DEU, 'a:b': \"c\"}\ncontact: [Absender, Telefon]\n",
        "--- \ncolumns: {}\n...\n",
        "",
        "# nothing but a comment\n",
        "columns:\n  ? Hinweis-ID\n  : tip_id\n",
        "a: |\n  multi\n  line\nb: >-\n  folded\n  text\n",
        "- 1\n- [2, 3]\n- {a: [b, {c: d}]}\n",
        "<<: {a: 1}\nb: 2\n",
        "a: !!binary aGVsbG8=\nb: !!str 12\nc: !!set {x, y}\n",
    ],
)
def test_yaml_within_the_limits_reads_as_pyyaml_safe_load_reads_it(text):
    assert _load_yaml(text, "m.yaml") == yaml.safe_load(text)


def test_toml_with_brackets_and_dots_in_strings_and_comments_is_not_mistaken_for_nesting(tmp_path):
    mapping = tmp_path / "tricky.toml"
    mapping.write_text(
        'contact = ["a.b.c.d.e.f.g.h.i.j.k.l", \'[[[[[[[[[[[[\']  # [[[[[[[[[[[[ . . . . . . . . . . . .\n'
        '[columns]\n"x.y.z.a.b.c.d.e.f.g.h" = "tip_id"\n'
        "'[[[[[[[[[[[[[[' = \"received_at\"\n"
        '[values.channel]\nWebformular = """[[[[[[[[[[[[\n. . . . . . . . . . \\""" [[[[[[[[[[["""\n'
        "Anruf = '''{{{{{{{{{{{{{{{{ ''' # }}}}}}\n"
        '"1.5" = 1.5\n"t" = 1979-05-27T00:32:00.999999\n',
        encoding="utf-8",
    )
    result = read_mapping(mapping)
    assert result.columns == {"x.y.z.a.b.c.d.e.f.g.h": "tip_id", "[[[[[[[[[[[[[[": "received_at"}
    assert result.contact == {"a.b.c.d.e.f.g.h.i.j.k.l", "[[[[[[[[[[[["}
    assert result.values["channel"]["anruf"] == "{{{{{{{{{{{{{{{{"
    assert result.values["channel"]["1.5"] == "1.5"


@pytest.mark.parametrize("suffix", [".toml", ".yaml"])
def test_a_large_mapping_just_within_the_entries_limit_loads(tmp_path, suffix):
    count = MAX_ENTRIES - 10
    mapping = tmp_path / f"countries{suffix}"
    if suffix == ".toml":
        mapping.write_text("[values.country]\n" + "".join(f"'Land {i}' = 'DEU'\n" for i in range(count)), encoding="utf-8")
    else:
        mapping.write_text("values:\n  country:\n" + "".join(f"    Land {i}: DEU\n" for i in range(count)), encoding="utf-8")
    started = time.perf_counter()
    result = read_mapping(mapping)
    assert time.perf_counter() - started < 1
    assert len(result.values["country"]) == count
