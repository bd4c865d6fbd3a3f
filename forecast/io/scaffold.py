"""The text of a new scenario file: a small network that parses and fits as it stands, with
every prior form and the default scales shown in comments for the analyst to edit. Pure."""

from __future__ import annotations

import datetime as dt
import json
from string import Template

from ..model.scales import default_scales_text

SCAFFOLD = Template('''\
# Scenario "$id", scaffolded by `forecast new` on $today.
#
# This file fits as it stands (`forecast report --scenario $id`), but its three nodes are
# placeholders: replace them with your own questions, and give every prior its rationale and
# reference class, in words. Then code evidence in evidence/$id.csv
# (columns: item_id, node, date, source, reliability, credibility, lr, cluster, summary, url,
# and quote: the verbatim sentence of the source the item codes)
# and record outcomes in evidence/$id.resolutions.csv (columns: node, outcome, date, source).
# Unknown keys are errors, so a misspelled key is reported rather than ignored.
#
# How to code to the project's analysis standard (docs/analysis-standard.md): a prior is a base
# rate BEFORE the scenario's evidence, so no rationale cites an item that is also in the CSV;
# name the reference class's cases, or keep the prior wide (low strength) and say the class is
# thin. Code events, not authors' inferences; grade an outlet you cannot judge F (weight 0.5),
# not B; restatements of one event share a cluster; an LR above 3 needs a direct link to the
# question's resolution.

[scenario]
# `id` must match the file name; `trigger` is the triggering event, in words; `as_of` is the
# date these priors describe; `sources` lists the documents the analysis rests on.
id = $id_string
title = $title
trigger = $trigger
as_of = $today
description = """\\
What the scenario asks, in a paragraph: the event, the questions, and the time frame."""
sources = []

# ---------------------------------------------------------------------------------------------
# Scales. The defaults shipped with the tool apply; they are copied here, commented out.
# Uncomment a table header and the entries you want to change: a table given here overrides
# the default entry by entry, and every entry left out keeps its default.
# ---------------------------------------------------------------------------------------------
$scales
# ---------------------------------------------------------------------------------------------
# Nodes. Each is a question that resolves by its deadline: yes or no, or (with `states`, see
# the third node) one of several named outcomes. `role` is "driver"
# (an enabling event) or "consequence". `parents` lists the nodes it depends on ([] for a
# root); the graph must be acyclic. A node needs one [[node.prior]] per combination of its
# parents' states (2 ** number of parents), each naming every parent in `when`: a state is
# true or false, or "yes" or "no" in quotes (TOML has no bare yes: `when = { a = yes }` is
# invalid TOML; write `when = { a = "yes" }`).
#
# A prior is P(node = yes | those parent states), written in exactly ONE of four forms:
#   p = 0.3, strength = 8             Beta(p * strength, (1 - p) * strength): a best guess,
#                                     worth `strength` observations
#   beta = [2.4, 5.6]                 Beta(a, b), written directly (mean a / (a + b))
#   term = "unlikely"                 an ICD 203 term (the midpoint of its range in
#   confidence = "low"                [scales.terms]), strength from [scales.confidence]
#   p = 0.02, fixed = true            a known constant, not sampled (textbook networks only:
#                                     a judgement is never certain)
# ---------------------------------------------------------------------------------------------

[[node]]
id = "driver_event"
label = "Driver event"
role = "driver"
question = "Will the driving event happen on or before $deadline?"
resolution = """\\
YES if the event is confirmed, between $today and $deadline, by an official statement \\
reported by at least two major wire services; NO otherwise."""
opens = $today
deadline = $deadline
parents = []
  [[node.prior]]
  term = "unlikely"                # form: term + confidence (p = 0.325, strength 4 by default)
  confidence = "low"
  rationale = "Why this probability, before any of the evidence in the CSV: the situation and the base rate."
  reference_class = "Which past cases this resembles, and how often the event followed in them."
  # The same judgement in the other forms (keep exactly one form per prior):
  # p = 0.325
  # strength = 4
  #   or
  # beta = [1.3, 2.7]
  #   or, only for a probability that is known rather than judged:
  # p = 0.325
  # fixed = true

[[node]]
id = "consequence"
label = "Consequence"
role = "consequence"
question = "Will the consequence follow on or before $deadline?"
resolution = "YES if ... is reported by ... between $today and $deadline; NO otherwise."
opens = $today
deadline = $deadline
parents = ["driver_event"]
  [[node.prior]]
  when = { driver_event = true }
  p = 0.6                          # form: p + strength
  strength = 6
  rationale = "How likely the consequence is if the driver happens, and why."
  reference_class = "Cases in which the driver happened: how often the consequence followed."

  [[node.prior]]
  when = { driver_event = "no" }   # the same as false
  beta = [1, 9]                    # form: beta = [a, b] (mean 0.1, worth 10 observations)
  rationale = "How likely the consequence is without the driver, and why."
  reference_class = "Cases without the driver: how often the consequence happened anyway."

# A question with more than two outcomes (2 to 100): `states` names them (lowercase identifiers),
# `ordered = true` says they run from least to most (or earliest to latest), which adds the
# ranked probability score and cumulative charts. Each prior is a row over the states, in their
# order, in exactly ONE of three forms:
#   p = [0.5, 0.35, 0.15], strength = 10    Dirichlet(strength * p): a best guess per state,
#                                           worth `strength` observations
#   dirichlet = [1, 2, 5]                   Dirichlet(a1, a2, a3), written directly
#   p = [0.6, 0.3, 0.1], fixed = true       a known row, not sampled
# Evidence on it names a `state` (the LR is for that state against the others), or gives one
# LR per state joined by ':' with no state (`1:2:4`); its resolution names the state that
# happened; a child's `when` names it in quotes (`when = { scale = "major" }`).
[[node]]
id = "scale"
label = "Scale of the consequence"
role = "consequence"
question = "How large is the consequence by $deadline: none, limited or major?"
resolution = """\
NONE if ... ; LIMITED if ... ; MAJOR if ..., as reported by ... between $today and $deadline."""
opens = $today
deadline = $deadline
parents = ["driver_event"]
states = ["none", "limited", "major"]
ordered = true
  [[node.prior]]
  when = { driver_event = true }
  p = [0.2, 0.5, 0.3]              # form: p (one per state, summing to 1) + strength
  strength = 10
  rationale = "How large the consequence is likely to be if the driver happens, and why."
  reference_class = "Cases in which the driver happened: how large the consequence was."

  [[node.prior]]
  when = { driver_event = false }
  dirichlet = [6, 3, 1]            # form: dirichlet (means 0.6, 0.3, 0.1; worth 10 observations)
  rationale = "How large the consequence is likely to be without the driver, and why."
  reference_class = "Cases without the driver: how large the consequence was."

# ---------------------------------------------------------------------------------------------
# The compact table form: the same CPT with one line per parent configuration. `prior` is then
# an array of inline tables; `when` may list the parents' states in the order of `parents`;
# a `rationale` / `reference_class` on the node serves every row that gives none. A node with
# 3 parents is 8 lines. To use it, replace the node's [[node.prior]] blocks with:
#
# parents = ["driver_event", "other_driver", "third_driver"]
# rationale = "Why these numbers: what each driver does, alone and together."
# reference_class = "The cases they rest on."
# prior = [   # when = [driver_event, other_driver, third_driver]
#   { when = [false, false, false], p = 0.05, strength = 10 },
#   { when = [true,  false, false], p = 0.40, strength = 6 },
#   { when = [false, true,  false], beta = [1, 3] },
#   { when = [true,  true,  false], p = 0.55, strength = 6 },
#   { when = [false, false, true ], term = "unlikely", confidence = "low" },
#   { when = [true,  false, true ], p = 0.50, strength = 4 },
#   { when = [false, true,  true ], p = 0.45, strength = 4 },
#   { when = [true,  true,  true ], p = 0.70, strength = 4, rationale = "A row may give its own." },
# ]
#
# Parametric CPTs: k + 1 numbers instead of 2 ** k rows (fitted by NUTS, not the exact engine).
# In this version a scenario with a parametric CPT asks yes/no questions only: delete the
# three-state `scale` node above before you use one.
# `cpt = "noisy_or"` when causes act independently: a base row without `cause` (P(yes) when no
# parent is yes) and one row per parent with `cause = "<parent>"`: the chance that this parent,
# being yes, makes the node yes by itself. P(yes) = 1 - (1 - base) * product of (1 - c) over
# the parents that are yes. Every row takes any of the four prior forms above.
#
# cpt = "noisy_or"
# parents = ["driver_event", "other_driver", "third_driver"]
# rationale = "Each driver can bring the consequence about on its own."
# reference_class = "..."
# prior = [
#   { p = 0.05, strength = 20 },                              # the base (no cause)
#   { cause = "driver_event", p = 0.40, strength = 8 },
#   { cause = "other_driver", beta = [2, 6] },
#   { cause = "third_driver", term = "unlikely", confidence = "low" },
# ]
#
# `cpt = "log_odds"` when effects add up and some may inhibit: a parent's number is P(yes) when
# that parent alone is yes; logit P(yes) = logit(base) + the sum, over the parents that are yes,
# of (logit(number) - logit(base)). A number below the base is an inhibitor.
#
# cpt = "log_odds"
# parents = ["driver_event", "other_driver"]
# rationale = "The driver raises the chance; the other driver (talks, say) lowers it."
# reference_class = "..."
# prior = [
#   { p = 0.30, strength = 10 },                              # the base
#   { cause = "driver_event", p = 0.60, strength = 8 },       # raises it
#   { cause = "other_driver", p = 0.10, strength = 8 },       # below the base: an inhibitor
# ]
''')


def commented_scales() -> str:
    """The default scales as `[scales.*]` tables, every line commented out."""
    lines = []
    for line in default_scales_text().splitlines():
        stripped = line.strip()
        if line.startswith("# Default scales"):
            continue
        if stripped.startswith("[") and not stripped.startswith("[["):
            name, _, rest = stripped[1:].partition("]")
            line = f"[scales.{name}]{rest}"
        lines.append(f"# {line}" if line.strip() else "")
    return "\n".join(lines).strip("\n") + "\n"


def toml_string(text: str) -> str:
    """A TOML basic string (JSON's escapes are a subset TOML accepts)."""
    return json.dumps(text, ensure_ascii=False)


def scaffold_toml(scenario_id: str, today: dt.date, title: str | None = None,
                  trigger: str | None = None) -> str:
    """A new scenario's TOML: opens today, questions due in one year."""
    try:
        deadline = today.replace(year=today.year + 1)
    except ValueError:
        deadline = today.replace(year=today.year + 1, day=28)
    return SCAFFOLD.substitute(
        id=scenario_id,
        id_string=toml_string(scenario_id),
        title=toml_string(title or f"New scenario: {scenario_id}"),
        trigger=toml_string(trigger or "The triggering event, in one sentence: who did what, and when."),
        today=today.isoformat(),
        deadline=deadline.isoformat(),
        scales=commented_scales(),
    )
