(function () {
  "use strict";
  // In-page what-ifs: the exact conditional forecast of every state of every question,
  // computed here by a junction tree over the prior-mean network times the evidence weights
  // (as `forecast whatif` computes posterior means). Nodes are eliminated in the exact
  // engine's order; each gives one clique (itself and its neighbours left in the moral graph),
  // whose parent is the clique of the first of those neighbours eliminated after it. A what-if
  // is one collect and one distribute pass (Hugin), so the cost is the clique tables' size,
  // not the number of joint states. Reads only the JSON data island; writes only textContent,
  // attributes and a bar's width.
  var island = document.getElementById("whatif-model");
  var status = document.getElementById("whatif-status");
  if (!island || !status) {
    return;
  }
  var loading = performance.now();
  var model = JSON.parse(island.textContent);
  var n = model.nodes.length;
  var card = model.states.map(function (s) { return s.length; });
  var index = {};
  model.nodes.forEach(function (id, v) { index[id] = v; });

  // the elimination cliques: vars[0] is the node eliminated, so its state is idx % card
  var adj = model.parents.map(function (pa) { return pa.slice(); });
  model.parents.forEach(function (pa, v) {
    pa.forEach(function (p) {
      adj[p].push(v);
      pa.forEach(function (q) { if (q !== p) { adj[p].push(q); } });
    });
  });
  var nbr = adj.map(function (list) {
    var set = {};
    list.forEach(function (u) { set[u] = true; });
    return set;
  });
  var pos = new Int32Array(n), cliques = [];
  model.order.forEach(function (v, step) {
    pos[v] = step;
    var rest = Object.keys(nbr[v]).map(Number);
    rest.forEach(function (u) {
      delete nbr[u][v];
      rest.forEach(function (w) { if (w !== u) { nbr[u][w] = true; } });
    });
    cliques.push({ node: v, vars: [v].concat(rest), sep: rest });
  });
  function strides(vars) {
    var out = [], s = 1;
    vars.forEach(function (u) { out.push(s); s *= card[u]; });
    return { strides: out, size: s };
  }
  // for every entry of a table over `vars`, the index of its entry in a table over `sub`
  function projection(vars, sub) {
    var own = strides(vars), target = strides(sub), where = {};
    sub.forEach(function (u, k) { where[u] = target.strides[k]; });
    var map = new Int32Array(own.size);
    for (var idx = 0; idx < own.size; idx++) {
      var rem = idx, at = 0;
      for (var k = 0; k < vars.length; k++) {
        var digit = rem % card[vars[k]];
        rem = (rem - digit) / card[vars[k]];
        if (vars[k] in where) { at += digit * where[vars[k]]; }
      }
      map[idx] = at;
    }
    return map;
  }
  cliques.forEach(function (c) {
    c.size = strides(c.vars).size;
    c.sepSize = strides(c.sep).size;
    c.toSep = projection(c.vars, c.sep);
    var first = -1;
    c.sep.forEach(function (u) { if (first < 0 || pos[u] < pos[first]) { first = u; } });
    c.parent = first < 0 ? -1 : pos[first];
  });
  cliques.forEach(function (c) {
    if (c.parent >= 0) { c.fromParent = projection(cliques[c.parent].vars, c.sep); }
  });
  // each node's CPT times its evidence weights goes into the clique of its family's first
  // eliminated member, which holds the whole family; a team's page has one set of CPTs per
  // analyst (model.team_cpt), so one set of potentials each
  function potentials(cpt) {
    var tables = cliques.map(function (c) { return new Float64Array(c.size).fill(1); });
    model.parents.forEach(function (pa, v) {
      var family = [v].concat(pa), home = v;
      family.forEach(function (u) { if (pos[u] < pos[home]) { home = u; } });
      var c = cliques[pos[home]], map = projection(c.vars, family), cells = cpt[v];
      var top = Math.max.apply(null, model.log_weights[v]);
      var weight = model.log_weights[v].map(function (w) { return Math.exp(w - top); });
      var table = tables[pos[home]];
      for (var idx = 0; idx < c.size; idx++) {
        // family index: v fastest, then the parents first-parent fastest; cells are config-major
        var f = map[idx], state = f % card[v], config = (f - state) / card[v];
        table[idx] *= cells[config * card[v] + state] * weight[state];
      }
    });
    return tables;
  }
  var bases = (model.team_cpt || [model.cpt]).map(potentials);

  // the logarithmic pool of the analysts' forecasts (analysis/pooling.py): per node the
  // normalised geometric mean over its states, each probability held in [FLOOR, 1 - FLOOR]
  var FLOOR = 1e-9;
  function pool(each) {
    var out = new Array(n);
    for (var v = 0; v < n; v++) {
      var k = card[v], logs = new Float64Array(k), s, top = -Infinity, z = 0;
      for (var a = 0; a < each.length; a++) {
        for (s = 0; s < k; s++) {
          logs[s] += Math.log(Math.min(1 - FLOOR, Math.max(FLOOR, each[a][v][s]))) / each.length;
        }
      }
      for (s = 0; s < k; s++) { if (logs[s] > top) { top = logs[s]; } }
      var p = new Float64Array(k);
      for (s = 0; s < k; s++) { p[s] = Math.exp(logs[s] - top); z += p[s]; }
      for (s = 0; s < k; s++) { p[s] /= z; }
      out[v] = p;
    }
    return out;
  }

  function posterior(clamps) {
    // every node's forecast given the clamps: the exact conditional forecast, or on a team's
    // page the pool of every analyst's; null when the conditions are impossible
    var each = [];
    for (var a = 0; a < bases.length; a++) {
      var p = exactPosterior(bases[a], clamps);
      if (!p) { return null; }
      each.push(p);
    }
    return each.length === 1 ? each[0] : pool(each);
  }

  function exactPosterior(base, clamps) {
    // P(node = state | evidence, resolutions, clamps) for every node, as arrays over its
    // states; a clamp overrides a resolution of the same node. null when the conditions are
    // impossible.
    var fixed = {};
    Object.keys(model.conditions).forEach(function (id) { fixed[index[id]] = model.conditions[id]; });
    Object.keys(clamps).forEach(function (key) { fixed[key] = clamps[key]; });
    var pot = base.map(function (t) { return new Float64Array(t); });
    Object.keys(fixed).forEach(function (key) {
      var u = Number(key), t = pot[pos[u]], k = card[u];
      for (var idx = 0; idx < t.length; idx++) {
        if (idx % k !== fixed[key]) { t[idx] = 0; }
      }
    });
    var msgs = new Array(n), i, idx, c, t;
    for (i = 0; i < n; i++) {                       // collect: children come first in the order
      c = cliques[i];
      t = pot[i];
      var msg = new Float64Array(c.sepSize), top = 0;
      for (idx = 0; idx < c.size; idx++) { msg[c.toSep[idx]] += t[idx]; }
      for (idx = 0; idx < msg.length; idx++) { if (msg[idx] > top) { top = msg[idx]; } }
      if (!(top > 0)) { return null; }
      for (idx = 0; idx < msg.length; idx++) { msg[idx] /= top; }
      msgs[i] = msg;
      if (c.parent >= 0) {
        var up = pot[c.parent], from = c.fromParent;
        for (idx = 0; idx < up.length; idx++) { up[idx] *= msg[from[idx]]; }
      }
    }
    for (i = n - 1; i >= 0; i--) {                  // distribute: parents come later
      c = cliques[i];
      t = pot[i];
      if (c.parent >= 0) {
        var above = pot[c.parent], marginal = new Float64Array(c.sepSize), back = c.fromParent;
        for (idx = 0; idx < above.length; idx++) { marginal[back[idx]] += above[idx]; }
        for (idx = 0; idx < marginal.length; idx++) {
          marginal[idx] = msgs[i][idx] > 0 ? marginal[idx] / msgs[i][idx] : 0;
        }
        var peak = 0;
        for (idx = 0; idx < t.length; idx++) {
          t[idx] *= marginal[c.toSep[idx]];
          if (t[idx] > peak) { peak = t[idx]; }
        }
        if (!(peak > 0)) { return null; }
        for (idx = 0; idx < t.length; idx++) { t[idx] /= peak; }
      }
    }
    var out = new Array(n);
    for (var v = 0; v < n; v++) {
      t = pot[pos[v]];
      var k = card[v], p = new Float64Array(k), z = 0, s;
      for (idx = 0; idx < t.length; idx++) { p[idx % k] += t[idx]; }
      for (s = 0; s < k; s++) { z += p[s]; }
      if (!(z > 0)) { return null; }
      for (s = 0; s < k; s++) { p[s] = Math.min(1, Math.max(0, p[s] / z)); }
      out[v] = p;
    }
    return out;
  }

  var terms = model.terms.slice().sort(function (a, b) { return a[1] - b[1]; });
  function term(p) {
    for (var i = 0; i < terms.length; i++) {
      if (p < terms[i][2]) { return terms[i][0]; }
    }
    return terms[terms.length - 1][0];
  }
  function pct(p) { return (100 * p).toFixed(1) + "%"; }
  function binary(v) { return card[v] === 2 && model.states[v][0] === "no" && model.states[v][1] === "yes"; }
  function stateName(v, s) { return binary(v) ? (s ? "yes" : "no") : model.states[v][s]; }

  var cards = Array.prototype.slice.call(document.querySelectorAll("[data-node]")).map(function (el) {
    var v = index[el.getAttribute("data-node")];
    if (v === undefined) { return null; }
    var mean = el.querySelector("[data-mean]");
    var rows = Array.prototype.slice.call(el.querySelectorAll("[data-state]")).map(function (row) {
      var bar = row.querySelector(".bar span"), num = row.querySelector(".num strong");
      return { el: row, s: model.states[v].indexOf(row.getAttribute("data-state")), bar: bar, num: num,
               initial: { p: row.getAttribute("data-p"), num: num ? num.textContent : "",
                          width: bar ? bar.style.width : "" } };
    }).filter(function (row) { return row.s >= 0; });
    var big = el.querySelector(".big"), termEl = el.querySelector(".term");
    return {
      el: el, v: v, mean: binary(v) ? mean : null, rows: rows, big: big, term: termEl,
      ranges: Array.prototype.slice.call(el.querySelectorAll(".range")),
      note: el.querySelector(".whatif-note"),
      buttons: Array.prototype.slice.call(el.querySelectorAll("[data-clamp], [data-unclamp]")),
      initial: { mean: mean ? mean.getAttribute("data-mean") : null, big: big.textContent,
                 term: termEl.textContent }
    };
  }).filter(function (card) { return card !== null; });
  // the structure section's layered cards (large scenarios) repeat each yes/no forecast
  var mirrors = Array.prototype.slice.call(document.querySelectorAll("[data-mirror]")).map(function (el) {
    var pctEl = el.querySelector(".pct"), termEl = el.querySelector(".mirror-term");
    return { v: index[el.getAttribute("data-mirror")], pct: pctEl, term: termEl,
             initial: { pct: pctEl && pctEl.textContent, term: termEl && termEl.textContent } };
  }).filter(function (m) { return m.v !== undefined && binary(m.v) && m.pct && m.term; });
  var clamps = {};
  var clearAll = document.getElementById("whatif-clear");
  var idle = status.textContent;
  var resolvedIndex = {};
  Object.keys(model.conditions).forEach(function (id) { resolvedIndex[index[id]] = model.conditions[id]; });

  function reset(card) {
    if (card.mean) { card.mean.setAttribute("data-mean", card.initial.mean); }
    card.rows.forEach(function (row) {
      row.el.setAttribute("data-p", row.initial.p);
      if (row.num) { row.num.textContent = row.initial.num; }
      if (row.bar) { row.bar.style.width = row.initial.width; }
    });
    card.big.textContent = card.initial.big;
    card.term.textContent = card.initial.term;
    card.el.classList.remove("whatif-on", "whatif-set");
    card.ranges.forEach(function (r) { r.hidden = false; });
    if (card.note) { card.note.textContent = ""; card.note.hidden = true; }
  }

  function fill(card, p, state) {
    var v = card.v;
    card.el.classList.add("whatif-on");
    card.el.classList.toggle("whatif-set", state !== undefined);
    card.ranges.forEach(function (r) { r.hidden = true; });
    card.rows.forEach(function (row) {
      row.el.setAttribute("data-p", String(p[row.s]));
      if (row.num) { row.num.textContent = pct(p[row.s]); }
      if (row.bar) { row.bar.style.width = (100 * p[row.s]).toFixed(1) + "%"; }
    });
    var quiet = state !== undefined || v in resolvedIndex;
    if (state !== undefined || v in resolvedIndex) {
      var s = state !== undefined ? state : resolvedIndex[v];
      card.big.textContent = binary(v) ? (s ? "Yes" : "No") : model.states[v][s];
      card.term.textContent = state !== undefined ? "set in this what-if" : "resolved";
    } else if (binary(v)) {
      card.big.textContent = pct(p[1]);
      card.term.textContent = term(p[1]);
    } else {
      var best = 0;
      for (var k = 1; k < p.length; k++) { if (p[k] > p[best]) { best = k; } }
      card.big.textContent = model.states[v][best];
      card.term.textContent = "most likely: " + term(p[best]) + ", " + pct(p[best]);
    }
    if (card.mean) {
      card.mean.setAttribute("data-mean", String(p[1]));
      if (card.note) {
        var before = Number(card.initial.mean), change = 100 * (p[1] - before);
        card.note.hidden = quiet;
        card.note.textContent = quiet ? "" :
          (Math.abs(change) < 0.05 ? "unchanged from " : (change > 0 ? "\u25b2 " : "\u25bc ") +
           (change > 0 ? "+" : "") + change.toFixed(1) + " pp from ") + pct(before) +
          " without the what-if";
      }
    }
  }

  function show() {
    var keys = Object.keys(clamps).sort(function (a, b) { return a - b; });
    var started = performance.now();
    var p = keys.length ? posterior(clamps) : null;
    var ms = performance.now() - started;
    cards.forEach(function (card) {
      var state = clamps[card.v];
      card.buttons.forEach(function (b) {
        var which = b.getAttribute("data-clamp");
        var on = state === undefined ? (which === null || (binary(card.v) && which === "none"))
          : which === stateName(card.v, state);
        b.setAttribute("aria-pressed", on ? "true" : "false");
      });
      if (!keys.length || !p) { reset(card); } else { fill(card, p[card.v], state); }
    });
    mirrors.forEach(function (m) {
      if (!keys.length || !p) {
        m.pct.textContent = m.initial.pct;
        m.term.textContent = m.initial.term;
      } else {
        var state = clamps[m.v];
        m.pct.textContent = pct(p[m.v][1]);
        m.term.textContent = state !== undefined ? "set in this what-if" :
          (m.v in resolvedIndex ? "resolved " + (resolvedIndex[m.v] ? "yes" : "no") : term(p[m.v][1]));
      }
    });
    status.setAttribute("data-ms", ms.toFixed(2));
    if (!keys.length) {
      status.textContent = idle;
    } else if (!p) {
      status.textContent = "These conditions cannot all hold together: clear one.";
    } else {
      var given = keys.map(function (k) { return model.nodes[k] + "=" + stateName(Number(k), clamps[k]); });
      status.textContent = "What if " + given.join(", ") + ": every forecast above is " +
        (bases.length > 1 ? "the team's, the logarithmic pool of each of the " + bases.length +
         " analysts' exact conditional forecasts (posterior means)" :
         "the exact conditional forecast (posterior mean)") + ", as \u201cforecast whatif " +
        given.map(function (g) { return "--given " + g; }).join(" ") + "\u201d gives; the " +
        "intervals are not recomputed here. Computed in this page in " + ms.toFixed(0) + " ms.";
    }
    if (clearAll) { clearAll.disabled = !keys.length; }
  }

  cards.forEach(function (card) {
    card.buttons.forEach(function (b) {
      b.addEventListener("click", function () {
        // a question of more outcomes may have a state called "none": its clear button is
        // data-unclamp, and data-clamp always names a state
        var which = b.getAttribute("data-clamp");
        var s = which === null ? -1 : binary(card.v) ? (which === "yes" ? 1 : which === "no" ? 0 : -1)
          : model.states[card.v].indexOf(which);
        if (s < 0) { delete clamps[card.v]; } else { clamps[card.v] = s; }
        show();
      });
    });
  });
  if (clearAll) {
    clearAll.addEventListener("click", function () { clamps = {}; show(); });
  }
  // one pass now, so the first click runs compiled code (and an impossible model shows at once)
  if (!posterior({})) {
    status.textContent = "The page cannot compute what-ifs: the resolutions cannot all hold together.";
    return;
  }
  document.body.classList.add("whatif-ready");
  show();
  status.setAttribute("data-init-ms", (performance.now() - loading).toFixed(2));
})();
