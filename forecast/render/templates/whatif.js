(function () {
  "use strict";
  // In-page what-ifs: the exact conditional forecast of every question, computed here by
  // enumerating the joint states of the prior-mean network (as `forecast whatif` computes
  // posterior means). Reads only the JSON data island; writes only textContent and attributes.
  var island = document.getElementById("whatif-model");
  var status = document.getElementById("whatif-status");
  if (!island || !status) {
    return;
  }
  var loading = performance.now();
  var model = JSON.parse(island.textContent);
  var n = model.nodes.length;
  var size = Math.pow(2, n);
  var index = {};
  model.nodes.forEach(function (id, v) { index[id] = v; });

  // log P(x) + evidence log-weights for every joint state x (bit v of x is node v)
  var logw = new Float64Array(size);
  model.parents.forEach(function (parents, v) {
    var bit = 1 << v;
    var yes = model.cpt[v].map(function (p) { return Math.log(p) + model.log_weights[v]; });
    var no = model.cpt[v].map(function (p) { return Math.log1p(-p); });
    var masks = parents.map(function (p) { return 1 << p; });
    for (var s = 0; s < size; s++) {
      var c = 0;
      for (var j = 0; j < masks.length; j++) {
        if (s & masks[j]) { c |= 1 << j; }
      }
      logw[s] += (s & bit) ? yes[c] : no[c];
    }
  });

  function posterior(clamps) {
    // P(node = yes | evidence, resolutions, clamps) for every node; a clamp overrides a
    // resolution of the same node. null when the conditions are impossible.
    var fixedMask = 0, fixedValue = 0, v;
    Object.keys(model.conditions).forEach(function (id) {
      var u = index[id];
      if (!(u in clamps)) {
        fixedMask |= 1 << u;
        if (model.conditions[id]) { fixedValue |= 1 << u; }
      }
    });
    Object.keys(clamps).forEach(function (key) {
      var u = Number(key);
      fixedMask |= 1 << u;
      if (clamps[key]) { fixedValue |= 1 << u; }
    });
    var free = (size - 1) & ~fixedMask;
    var top = -Infinity, sub, s;
    for (sub = free; ; sub = (sub - 1) & free) {
      s = fixedValue | sub;
      if (logw[s] > top) { top = logw[s]; }
      if (sub === 0) { break; }
    }
    if (top === -Infinity) { return null; }
    var z = 0, yes = new Float64Array(n);
    for (sub = free; ; sub = (sub - 1) & free) {
      s = fixedValue | sub;
      var w = Math.exp(logw[s] - top);
      if (w > 0) {
        z += w;
        for (v = 0; v < n; v++) {
          if (s & (1 << v)) { yes[v] += w; }
        }
      }
      if (sub === 0) { break; }
    }
    for (v = 0; v < n; v++) { yes[v] = Math.min(1, Math.max(0, yes[v] / z)); }
    return yes;
  }

  var terms = model.terms.slice().sort(function (a, b) { return a[1] - b[1]; });
  function term(p) {
    for (var i = 0; i < terms.length; i++) {
      if (p < terms[i][2]) { return terms[i][0]; }
    }
    return terms[terms.length - 1][0];
  }
  function pct(p) { return (100 * p).toFixed(1) + "%"; }

  var cards = Array.prototype.slice.call(document.querySelectorAll("[data-node]")).map(function (el) {
    var mean = el.querySelector("[data-mean]");
    return {
      el: el, v: index[el.getAttribute("data-node")], mean: mean,
      big: el.querySelector(".big"), term: el.querySelector(".term"),
      range: el.querySelector(".range"), note: el.querySelector(".whatif-note"),
      buttons: Array.prototype.slice.call(el.querySelectorAll("[data-clamp]")),
      initial: { mean: mean.getAttribute("data-mean"), big: el.querySelector(".big").textContent,
                 term: el.querySelector(".term").textContent }
    };
  }).filter(function (card) { return card.v !== undefined; });
  // the structure section's layered cards (large scenarios) repeat each forecast: they follow
  var mirrors = Array.prototype.slice.call(document.querySelectorAll("[data-mirror]")).map(function (el) {
    var pctEl = el.querySelector(".pct"), termEl = el.querySelector(".mirror-term");
    return { v: index[el.getAttribute("data-mirror")], pct: pctEl, term: termEl,
             initial: { pct: pctEl.textContent, term: termEl.textContent } };
  }).filter(function (m) { return m.v !== undefined && m.pct && m.term; });
  var clamps = {};
  var clearAll = document.getElementById("whatif-clear");
  var idle = status.textContent;

  function show() {
    var keys = Object.keys(clamps);
    var started = performance.now();
    var p = keys.length ? posterior(clamps) : null;
    var ms = performance.now() - started;
    cards.forEach(function (card) {
      var state = clamps[card.v];
      card.buttons.forEach(function (b) {
        var which = b.getAttribute("data-clamp");
        var on = state === undefined ? which === "none" : which === (state ? "yes" : "no");
        b.setAttribute("aria-pressed", on ? "true" : "false");
      });
      if (!keys.length || !p) {
        card.mean.setAttribute("data-mean", card.initial.mean);
        card.big.textContent = card.initial.big;
        card.term.textContent = card.initial.term;
        card.el.classList.remove("whatif-on", "whatif-set");
        if (card.range) { card.range.hidden = false; }
        if (card.note) { card.note.textContent = ""; card.note.hidden = true; }
        return;
      }
      var value = p[card.v];
      card.mean.setAttribute("data-mean", String(value));
      card.el.classList.add("whatif-on");
      card.el.classList.toggle("whatif-set", state !== undefined);
      if (card.range) { card.range.hidden = true; }
      var before = Number(card.initial.mean);
      if (state !== undefined) {
        card.big.textContent = state ? "Yes" : "No";
        card.term.textContent = "set in this what-if";
      } else if (card.v in resolvedIndex) {
        card.big.textContent = resolvedIndex[card.v] ? "Yes" : "No";
        card.term.textContent = "resolved";
      } else {
        card.big.textContent = pct(value);
        card.term.textContent = term(value);
      }
      if (card.note) {
        var change = 100 * (value - before);
        var quiet = state !== undefined || card.v in resolvedIndex;
        card.note.hidden = quiet;
        card.note.textContent = quiet ? "" :
          (Math.abs(change) < 0.05 ? "unchanged from " : (change > 0 ? "\u25b2 " : "\u25bc ") +
           (change > 0 ? "+" : "") + change.toFixed(1) + " pp from ") + pct(before) +
          " without the what-if";
      }
    });
    mirrors.forEach(function (m) {
      if (!keys.length || !p) {
        m.pct.textContent = m.initial.pct;
        m.term.textContent = m.initial.term;
      } else {
        var state = clamps[m.v];
        m.pct.textContent = pct(p[m.v]);
        m.term.textContent = state !== undefined ? "set in this what-if" :
          (m.v in resolvedIndex ? "resolved " + (resolvedIndex[m.v] ? "yes" : "no") : term(p[m.v]));
      }
    });
    status.setAttribute("data-ms", ms.toFixed(2));
    if (!keys.length) {
      status.textContent = idle;
    } else if (!p) {
      status.textContent = "These conditions cannot all hold together: clear one.";
    } else {
      var given = keys.map(function (k) { return model.nodes[k] + "=" + (clamps[k] ? "yes" : "no"); });
      status.textContent = "What if " + given.join(", ") + ": every forecast above is the exact " +
        "conditional forecast (posterior mean), as \u201cforecast whatif " +
        given.map(function (g) { return "--given " + g; }).join(" ") + "\u201d gives; the " +
        "intervals are not recomputed here. Computed in this page in " + ms.toFixed(0) + " ms.";
    }
    if (clearAll) { clearAll.disabled = !keys.length; }
  }

  var resolvedIndex = {};
  Object.keys(model.conditions).forEach(function (id) { resolvedIndex[index[id]] = model.conditions[id]; });

  cards.forEach(function (card) {
    card.buttons.forEach(function (b) {
      b.addEventListener("click", function () {
        var which = b.getAttribute("data-clamp");
        if (which === "none") { delete clamps[card.v]; } else { clamps[card.v] = which === "yes" ? 1 : 0; }
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
