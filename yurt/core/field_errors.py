"""marshmallow's nested validation messages, flattened once for every caller: to field paths such as
``properties.phones[0].number`` (a list item is ``[i]``; a whole-object message is ``$`` or its parent's path).
Problems carry them as ``errors``, so a client can put each message next to its field; the dataset loader
prints them one per line."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def field_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            if isinstance(key, int):
                path = f"{prefix}[{key}]"
            elif key == "_schema":
                path = prefix or "$"
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            for sub_path, sub_messages in field_errors(value, path).items():
                out.setdefault(sub_path, []).extend(sub_messages)
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        out[prefix or "$"] = list(messages)
    elif isinstance(messages, list):
        for i, value in enumerate(messages):
            out.update(field_errors(value, f"{prefix}[{i}]"))
    else:
        out[prefix or "$"] = [str(messages)]
    return out
