"""An independent reference for the shipped Turkey forecasts: pyAgrum's LazyPropagation on the
scenario read with tomllib and csv alone (no forecast code): each CPT entry at its prior mean,
each counted (cluster, node) group a likelihood vector [1, exp(w log LR)], the cluster rule and
the default grading applied here by hand. tests/test_shipped_scenarios.py holds the package to
the figures it prints.

    python scripts/turkey_reference.py [ROOT] [ITEM,ITEM...]   # the second: leave those items out
"""
import csv
import math
import sys
import tomllib

import pyagrum as gum

root = sys.argv[1] if len(sys.argv) > 1 else "."
sc = tomllib.load(open(f"{root}/priors/turkey-peacekeeping.toml", "rb"))
LR = {"weakly_for": 1.5, "weakly_against": 0.67}
REL = {"A":1,"B":.8,"C":.6,"D":.4,"E":.05,"F":.5}
CRED = {"1":1,"2":.8,"3":.6,"4":.4,"5":.05,"6":.5}
bn = gum.BayesNet()
for n in sc["node"]:
    bn.add(gum.LabelizedVariable(n["id"], n["id"], ["no", "yes"]))
for n in sc["node"]:
    for p in n["parents"]:
        bn.addArc(p, n["id"])


def mean(pr):
    if "beta" in pr:
        a, b = pr["beta"]
        return a / (a + b)
    return pr["p"]


for n in sc["node"]:
    for pr in n["prior"]:
        q = mean(pr)
        when = {k: (1 if v else 0) for k, v in pr.get("when", {}).items()}
        bn.cpt(n["id"])[when] = [1 - q, q]
def run(ev):
    ie = gum.LazyPropagation(bn)
    groups = {}
    for r in ev:
        lr = LR.get(r["lr"]) or float(r["lr"])
        w = REL[r["reliability"]] * CRED[r["credibility"]]
        key = (r["cluster"] or r["item_id"], r["node"])
        groups.setdefault(key, []).append(w * math.log(lr))
    per_node = {}
    for (_c, node), vals in groups.items():
        per_node[node] = per_node.get(node, 0) + max(vals, key=abs)
    for node, lw in per_node.items():
        ie.addEvidence(node, [1.0, math.exp(lw)])
    ie.makeInference()
    return {n["id"]: ie.posterior(n["id"])[1] for n in sc["node"]}
ev = list(csv.DictReader(open(f"{root}/evidence/turkey-peacekeeping.csv", encoding="utf-8")))
prior, post = run([]), run(ev)
for n in sc["node"]:
    print(f"{n['id']:26s} {prior[n['id']]:.6f} {post[n['id']]:.6f}")
if len(sys.argv) > 2:   # leave out a set of items
    gone = set(sys.argv[2].split(","))
    less = run([r for r in ev if r["item_id"] not in gone])
    for n in sc["node"]:
        print(f"without {sys.argv[2]}: {n['id']:26s} {100*(post[n['id']]-less[n['id']]):+.4f} pp")
