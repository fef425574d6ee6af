"""Every command and group of `newsletter` explains itself in --help: its own help text, help
for each option, and each argument named in the command's help.

click's arguments have no help of their own (`newsletter approve --help` shows ITEM_ID only in
the usage line), so for an argument the check is that the command's help text names it as the
usage line does (its human_readable_name, e.g. ITEM_ID), which is where a reader looks for it."""

from __future__ import annotations

import click
import pytest

from newsletter.cli import main


def commands(command: click.Command, path: tuple[str, ...] = ("newsletter",)):
    yield " ".join(path), command
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from commands(sub, (*path, name))


COMMANDS = dict(commands(main))


def test_the_tree_is_walked():
    assert "newsletter" in COMMANDS and len(COMMANDS) > 10
    assert any(isinstance(command, click.Group) for name, command in COMMANDS.items() if name != "newsletter")


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_the_command_has_help_and_so_has_each_option_and_argument(path):
    command = COMMANDS[path]
    text = (command.help or "").strip()
    assert text, f"`{path}` has no help text"
    missing = []
    for param in command.params:
        if isinstance(param, click.Option):
            if "--help" in param.opts:
                continue
            if not (param.help or "").strip():
                missing.append(f"option {'/'.join(param.opts)} has no help")
        elif param.human_readable_name not in text:
            missing.append(f"argument {param.human_readable_name} is not named in the command's help")
    assert not missing, f"`{path}`: " + "; ".join(missing)
