"""A synthetic world where the truth is known: questions drawn from a known model, evidence
coded from that truth with known likelihood ratios and Admiralty grades, exactly as an
analyst would code it in the evidence CSV. Used to show that the whole system (CSV parsing,
grading weights, the cluster rule, the engine), not only the sampler, is calibrated.

How an item is made honest: a report r in {for, against} about node v has P(for | yes) = a
and P(for | no) = b, so its true likelihood ratio is a/b (or (1-a)/(1-b)). The tool moves a
node by w * log(LR coded), with w from the grade, so the analyst codes LR = true LR ** (1 / w).
A restatement of a report (same event, another outlet, weaker grade, same cluster) carries
no new information; the cluster rule must count it once.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from ..model.generate import EVIDENCE_HEADER as HEADER
from ..model.network import Network
from ..model.spec import Scales
from .sbc import draw_prior

WORLD_TOML = """\
[scenario]
id = "synthetic-world"
title = "Synthetic world"
trigger = "Questions whose truth is drawn from this model"
as_of = 2025-01-01

[[node]]
id = "cause"
role = "driver"
question = "Does the cause occur?"
resolution = "Drawn from the model."
opens = 2025-01-01
deadline = 2026-01-01
parents = []
  [[node.prior]]
  beta = [2.0, 3.0]
  rationale = "Known model."
  reference_class = "Synthetic."

[[node]]
id = "effect_a"
role = "consequence"
question = "Does effect A follow?"
resolution = "Drawn from the model."
opens = 2025-01-01
deadline = 2026-01-01
parents = ["cause"]
  [[node.prior]]
  when = { cause = true }
  p = 0.7
  strength = 8
  rationale = "Known model."
  reference_class = "Synthetic."
  [[node.prior]]
  when = { cause = false }
  term = "unlikely"
  confidence = "moderate"
  rationale = "Known model."
  reference_class = "Synthetic."

[[node]]
id = "effect_b"
role = "consequence"
question = "Does effect B follow?"
resolution = "Drawn from the model."
opens = 2025-01-01
deadline = 2026-01-01
parents = ["cause", "effect_a"]
  [[node.prior]]
  when = { cause = false, effect_a = false }
  beta = [1.0, 6.0]
  rationale = "Known model."
  reference_class = "Synthetic."
  [[node.prior]]
  when = { cause = true, effect_a = false }
  beta = [2.0, 2.0]
  rationale = "Known model."
  reference_class = "Synthetic."
  [[node.prior]]
  when = { cause = false, effect_a = true }
  beta = [2.0, 3.0]
  rationale = "Known model."
  reference_class = "Synthetic."
  [[node.prior]]
  when = { cause = true, effect_a = true }
  beta = [5.0, 1.5]
  rationale = "Known model."
  reference_class = "Synthetic."
"""

# Report types: (P(report says "for" | yes), P(report says "for" | no)).
REPORT_TYPES = ((0.8, 0.3), (0.6, 0.4), (0.9, 0.25), (0.55, 0.35))
# Grades an analyst might give, as (reliability, credibility).
GRADES = (("A", "1"), ("B", "2"), ("C", "3"), ("B", "3"), ("D", "2"))
RESTATEMENT_GRADE = ("C", "4")


@dataclass(frozen=True)
class WorldDraw:
    theta: np.ndarray           # the parameters (for a table-only network, its CPT entries)
    state: np.ndarray
    evidence_csv: str


def draw_world(net: Network, scales: Scales, rng: np.random.Generator, max_reports: int = 3,
               restate_prob: float = 0.4) -> WorldDraw:
    """One world: parameters and node states from the prior (`sbc.draw_prior`), and an
    evidence CSV coded from the states."""
    theta, state = draw_prior(net, rng)
    out = io.StringIO()
    out.write(HEADER)
    counter = 0
    for v, node in enumerate(net.node_ids):
        for _ in range(rng.integers(0, max_reports + 1)):
            counter += 1
            a, b = REPORT_TYPES[rng.integers(len(REPORT_TYPES))]
            says_for = rng.random() < (a if state[v] else b)
            true_lr = a / b if says_for else (1 - a) / (1 - b)
            reliability, credibility = GRADES[rng.integers(len(GRADES))]
            w = scales.grading_weight(reliability, credibility)
            cluster = f"event-{counter}"
            out.write(f"R{counter},{node},2025-02-01,Outlet {counter},{reliability},{credibility},"
                      f"{true_lr ** (1 / w)!r},{cluster},report {counter},\n")
            if rng.random() < restate_prob:
                r2, c2 = RESTATEMENT_GRADE
                out.write(f"R{counter}b,{node},2025-02-02,Echo of {counter},{r2},{c2},"
                          f"{true_lr ** (1 / w)!r},{cluster},restates report {counter},\n")
    return WorldDraw(theta, state, out.getvalue())
