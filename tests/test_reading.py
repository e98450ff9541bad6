"""The bounded reader (mario_zoo/reading.py) at each of its limits: size, nesting depth, YAML anchors and aliases."""

from __future__ import annotations

import re

import pytest

from mario_zoo.reading import json_depth, parse_json, parse_yaml, read_json, read_yaml

BILLION_LAUGHS = """
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: [*c, *c, *c, *c, *c, *c, *c, *c, *c]
"""


def test_json_at_the_size_limit_is_read_and_one_byte_more_is_refused(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"a": 1}')
    assert read_json(path, max_bytes=8) == {"a": 1}
    with pytest.raises(ValueError, match=re.escape(f"{path} is larger than the 7 bytes limit for this file")):
        read_json(path, max_bytes=7)


def test_json_at_the_depth_limit_is_read_and_one_level_more_is_refused():
    assert parse_json("[[[1]]]", "x.json", max_depth=3) == [[[1]]]
    with pytest.raises(ValueError, match=re.escape("x.json nests 4 levels deep; the limit is 3.")):
        parse_json("[[[[1]]]]", "x.json", max_depth=3)


def test_a_json_nesting_bomb_is_refused_without_recursing():
    with pytest.raises(ValueError, match="nests 200000 levels deep; the limit is 32"):
        parse_json("[" * 200_000 + "]" * 200_000, "bomb.json")


def test_brackets_inside_json_strings_do_not_count():
    assert json_depth(r'{"a": "[[[{\"", "b": ["]]"]}') == 2


def test_truncated_and_non_utf8_json_are_one_line_errors(tmp_path):
    path = tmp_path / "cut.json"
    path.write_bytes(b'{"a": [1, 2')
    with pytest.raises(ValueError, match=re.escape(f"{path} is not valid JSON")) as raised:
        read_json(path)
    assert "\n" not in str(raised.value)
    path.write_bytes(b"\xff\xfe{}")
    with pytest.raises(ValueError, match=re.escape(f"{path} is not UTF-8 text")):
        read_json(path)


def test_yaml_aliases_are_refused_before_anything_expands(tmp_path):
    path = tmp_path / "bomb.yml"
    path.write_text(BILLION_LAUGHS)
    with pytest.raises(ValueError, match=re.escape(f"{path} uses an anchor (&a, line 2)")):
        read_yaml(path)


def test_a_yaml_alias_without_its_anchor_is_still_refused():
    with pytest.raises(ValueError, match=re.escape("x.yml uses an alias (*nothing, line 1)")):
        parse_yaml("a: *nothing\n", "x.yml")


def test_yaml_at_the_size_limit_is_read_and_one_byte_more_is_refused(tmp_path):
    path = tmp_path / "x.yml"
    path.write_text("a: 1\n")
    assert read_yaml(path, max_bytes=5) == {"a": 1}
    with pytest.raises(ValueError, match=re.escape(f"{path} is larger than the 4 bytes limit")):
        read_yaml(path, max_bytes=4)


def test_yaml_at_the_depth_limit_is_read_and_one_level_more_is_refused():
    assert parse_yaml("a: [[1]]", "x.yml", max_depth=3) == {"a": [[1]]}
    with pytest.raises(ValueError, match=re.escape("x.yml nests more than 3 levels deep (line 1)")):
        parse_yaml("a: [[[1]]]", "x.yml", max_depth=3)


def test_yaml_that_builds_python_objects_is_refused():
    with pytest.raises(ValueError, match="is not valid YAML: could not determine a constructor"):
        parse_yaml("!!python/object/apply:os.system ['true']", "x.yml")
