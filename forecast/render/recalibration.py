"""`forecast recalibrate` in words: each group's (a, b), what it means, and the held-out check."""

from __future__ import annotations


def _meaning(b_low: float, b_high: float) -> str:
    if b_high < 1:
        return "overconfident: its forecasts are pulled toward 50%"
    if b_low > 1:
        return "underconfident: its forecasts are pushed away from 50%"
    return "no clear over- or underconfidence (b's interval holds 1)"


def recalibration_text(document: dict, written) -> str:
    held = document["held_out"]
    lines = [f"Recalibration from {document['n']} resolved forecasts of {document['questions']} "
             f"questions (fitted on {document['fitted_on']}): logit p' = a + b logit p", ""]
    width = max(len(g) for g in document["groups"])
    for group, g in document["groups"].items():
        lines.append(f"  {group:<{width}}  a {g['a']:+.2f} [{g['a_interval'][0]:+.2f}, "
                     f"{g['a_interval'][1]:+.2f}]  b {g['b']:.2f} [{g['b_interval'][0]:.2f}, "
                     f"{g['b_interval'][1]:.2f}]  n {g['n']}  {_meaning(*g['b_interval'])}")
    lines += ["", f"Held out ({held['folds']} folds by {held['by']}): Brier {held['raw_brier']:.4f} "
              f"raw, {held['recalibrated_brier']:.4f} recalibrated"]
    for group, scores in held.get("by_group", {}).items():
        lines.append(f"  {group:<{width}}  {scores['raw_brier']:.4f} -> "
                     f"{scores['recalibrated_brier']:.4f}")
    if document["diagnostics"]["warnings"]:
        lines += ["", "Sampling: " + "; ".join(document["diagnostics"]["warnings"])]
    lines += ["", "Wrote " + ", ".join(str(p) for p in written) if written else ""]
    return "\n".join(lines) + "\n"
