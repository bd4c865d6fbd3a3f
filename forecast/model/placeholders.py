"""Texts a generated scenario could not know (an imported network's questions, resolutions and
rationales) start with PLACEHOLDER, so `forecast evidence validate` can say which are still to
be written rather than let a placeholder pass for an analyst's words. Pure."""

from __future__ import annotations

from .spec import Scenario

PLACEHOLDER = "TO BE WRITTEN:"


def is_placeholder(text: str | None) -> bool:
    return bool(text) and text.lstrip().startswith(PLACEHOLDER)


def unwritten(scenario: Scenario) -> list[tuple[str, str]]:
    """(where, fields) of the placeholders, in file order: the `scenario` table's fields, then
    each node's question, resolution, rationale and reference class (a node's priors count
    once), one entry per table, its fields joined by ", "."""
    found = []
    fields = [key for key in ("title", "trigger", "description")
              if is_placeholder(getattr(scenario, key))]
    if fields:
        found.append(("scenario", ", ".join(fields)))
    for node in scenario.nodes:
        fields = [key for key in ("question", "resolution") if is_placeholder(getattr(node, key))]
        fields += [key for key in ("rationale", "reference_class")
                   if any(is_placeholder(getattr(prior, key)) for prior in node.priors)]
        if fields:
            found.append((f"node[{node.id}]", ", ".join(fields)))
    return found
