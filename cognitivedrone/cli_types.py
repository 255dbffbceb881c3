"""Argument types for the command lines that tyro generates from config dataclasses (bench,
datagen, train): where a field's text on the command line is not tyro's default reading of its
type. Kept apart from cli.py so a config in a lower layer can use them."""

from __future__ import annotations

from typing import Annotated

import tyro


def comma_list(text: str) -> tuple[str, ...]:
    """'a, b,,c' -> ('a', 'b', 'c')."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


#: A tuple of names written as one comma-separated word, as the flags always took them
#: (`--families reasoning/arithmetic,symbol/digit`), not tyro's space-separated list.
CommaList = Annotated[tuple[str, ...], tyro.constructors.PrimitiveConstructorSpec(
    nargs=1, metavar="NAME[,NAME...]", instance_from_str=lambda args: comma_list(args[0]),
    is_instance=lambda value: isinstance(value, tuple), str_from_instance=lambda value: [",".join(value)])]
