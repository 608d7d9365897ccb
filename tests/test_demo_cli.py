"""Every demo's command line: parsed by tyro from its ``Args`` dataclass, each option listed
once in ``--help`` with its help text and its default, nothing pointing into the source."""

from __future__ import annotations

import dataclasses
import re
import typing

import pytest


def help_text(demo, capsys, monkeypatch) -> str:
    monkeypatch.setenv("COLUMNS", "400")  # one line per option, nothing wrapped
    with pytest.raises(SystemExit) as exit_info:
        demo.parse_args(["--help"])
    assert exit_info.value.code == 0
    return capsys.readouterr().out


def option_entry(text: str, flag: str) -> str | None:
    """The help of ``flag``: its line and the indented lines under it, joined."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if re.match(rf"\s*{flag}\b", line):
            entry = [line]
            for nxt in lines[i + 1 :]:
                if not nxt.strip() or re.match(r"\s*-", nxt):
                    break
                entry.append(nxt)
            return "  ".join(entry)
    return None


def test_help_lists_every_option_once_with_its_default(demo, capsys, monkeypatch):
    text = help_text(demo, capsys, monkeypatch)
    flags = re.findall(r"(?<![\w-])--[a-z][\w-]*", text)
    assert len(flags) == len(set(flags)), f"a flag is listed twice: {sorted(flags)}"
    assert all("_" not in flag for flag in flags), "one spelling: hyphens only"
    for field in dataclasses.fields(demo.Args):
        default = field.default if field.default_factory is dataclasses.MISSING else None
        flag = "--" + field.name.replace("_", "-")
        if default is True:
            flag = "--no-" + field.name.replace("_", "-")  # the only flag of a default-on bool
        entry = option_entry(text, flag)
        assert entry is not None, f"{flag} missing from --help"
        assert "(default: " in entry, f"{flag}: no default shown"
        assert re.search(r"\s{2}\S.*\(default: ", entry), f"{flag}: no help text"
    assert "below" not in text and "LEARNING_RATES" not in text  # no pointers into the source


def test_defaults_round_trip(demo):
    assert demo.parse_args([]) == demo.Args()


def test_list_options_take_space_separated_values(demo):
    hints = typing.get_type_hints(demo.Args)
    for field in dataclasses.fields(demo.Args):
        origin = typing.get_origin(hints[field.name])
        if origin not in (list, tuple):
            continue
        default = list(getattr(demo.Args(), field.name))
        flag = "--" + field.name.replace("_", "-")
        parsed = getattr(demo.parse_args([flag, *map(str, default)]), field.name)
        assert list(parsed) == default  # one value per argument, no commas
