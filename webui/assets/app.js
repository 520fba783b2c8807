// The dashboard's script: live table (polls /ui/state.json while the page
// is visible), actions without reload, filter, collapsible groups, and the
// live log view. Without it the server-rendered page works on its own.
"use strict";
(function () {
  var $ = function (sel, root) { return (root || document).querySelector(sel); };
  var el = function (tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text != null) e.textContent = text;
    return e;
  };
  // A page opened as http://user:pass@host/ has those credentials in its
  // URL, and fetch refuses relative URLs then: use the bare origin.
  var here = location.origin;
  var meta = $('meta[name="supervisor-token"]');
  var token = meta ? meta.content : "";

  function say(text, bad) {
    var m = $("#msg");
    if (!m) return;
    m.textContent = text;
    m.hidden = !text;
    m.classList.toggle("bad", !!bad);
  }

  // ---- actions: every form.act posts with the token, without a reload ----
  document.addEventListener("submit", function (ev) {
    var f = ev.target;
    if (!f.classList || !f.classList.contains("act")) return;
    ev.preventDefault();
    var ask = f.getAttribute("data-confirm");
    if (ask && !window.confirm(ask)) return;
    var body = new URLSearchParams(new FormData(f));
    if (ask) body.set("confirm", "yes");
    fetch(here + "/ui/action", {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-Supervisor-Token": token, "Accept": "application/json" }
    }).then(function (r) {
      return r.json().then(function (j) { say(j.message || j.error || "", !r.ok); });
    }).catch(function (e) { say("action failed: " + e, true); }).then(poll);
  });

  // ---- dashboard ----
  var groupsEl = $("#groups");
  var collapsed = {};
  try { collapsed = JSON.parse(sessionStorage.getItem("sv-collapsed") || "{}"); } catch (e) {}

  function human(n) {
    if (n >= 1 << 30) return (n / (1 << 30)).toFixed(1) + " GiB";
    if (n >= 1 << 20) return (n / (1 << 20)).toFixed(1) + " MiB";
    if (n >= 1 << 10) return Math.round(n / 1024) + " KiB";
    return n + " B";
  }
  function spark(values, label) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("class", "spark");
    svg.setAttribute("viewBox", "0 0 64 16");
    svg.setAttribute("preserveAspectRatio", "none");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", label);
    if (values.length > 1) {
      var hi = Math.max.apply(null, values) || 1, pts = [];
      for (var i = 0; i < values.length; i++) {
        pts.push((i * 64 / (values.length - 1)).toFixed(1) + "," + (15 - values[i] / hi * 14).toFixed(1));
      }
      var pl = document.createElementNS(ns, "polyline");
      pl.setAttribute("points", pts.join(" "));
      svg.appendChild(pl);
    }
    return svg;
  }
  function actForm(action, target, label, aria, ask) {
    var f = el("form", { method: "post", action: "/ui/action", "class": "act" });
    if (ask) f.setAttribute("data-confirm", ask);
    [["token", token], ["action", action], ["target", target]].forEach(function (kv) {
      f.appendChild(el("input", { type: "hidden", name: kv[0], value: kv[1] }));
    });
    var b = el("button", { type: "submit" }, label);
    if (aria) b.setAttribute("aria-label", aria);
    f.appendChild(b);
    return f;
  }
  function procActs(p) {
    var out = [], mk = function (a, l) { return actForm(a, p.spec, l, l + " " + p.spec); };
    if (["RUNNING", "STARTING", "BACKOFF"].indexOf(p.state) >= 0) out.push(mk("stop", "Stop"), mk("restart", "Restart"));
    if (["STOPPED", "EXITED", "FATAL"].indexOf(p.state) >= 0) out.push(mk("start", "Start"));
    out.push(mk("clear", "Clear log"));
    ["stdout", "stderr"].forEach(function (ch) {
      var a = el("a", { "class": "btn", href: "/ui/log?" + new URLSearchParams({ name: p.spec, channel: ch }),
        "aria-label": "Log of " + p.spec + " " + ch }, ch);
      out.push(a);
    });
    return out;
  }
  function fillRow(tr, p) {
    tr.className = p.alert;
    var c = tr.cells;
    c[0].replaceChildren(el("span", { "class": "badge s-" + p.state.toLowerCase() }, p.state));
    c[1].textContent = p.spec;
    var d = [document.createTextNode(p.description)];
    if (p.exitstatus && p.state === "EXITED") d.push(" ", el("span", { "class": "note" }, "exit " + p.exitstatus));
    if (p.restarts) d.push(" ", el("span", { "class": "note" }, p.restarts + " restarts"));
    // Readiness and health only where a check is configured.
    if (p.readycheck && p.state === "STARTING") d.push(" ", el("span", { "class": "note", title: p.readycheck }, "waiting for ready"));
    else if (p.readycheck && p.ready) d.push(" ", el("span", { "class": "note good", title: p.readycheck }, "ready"));
    if (p.ready && p.healthy === false) d.push(" ", el("span", { "class": "note bad", title: p.healthcheck || "" }, "unhealthy" + (p.lasterror ? ": " + p.lasterror : "")));
    else if (p.ready && p.healthcheck) d.push(" ", el("span", { "class": "note good", title: p.healthcheck }, "healthy"));
    c[2].replaceChildren.apply(c[2], d);
    // The first poll brings each history; later ones the last point,
    // added here when it is new (the daemon samples every 2 s).
    var h = hist[p.spec];
    if (p.cpu.length > 1 || !h) h = hist[p.spec] = { at: p.sampleat, cpu: p.cpu.slice(), rss: p.rss.slice() };
    else if (p.cpu.length === 1 && p.sampleat !== h.at) {
      h.at = p.sampleat; h.cpu.push(p.cpu[0]); h.rss.push(p.rss[0]);
      if (h.cpu.length > 150) { h.cpu.shift(); h.rss.shift(); }
    }
    var n = h.cpu.length;
    if (n && p.cpu.length && p.pid > 0) {
      c[3].replaceChildren(document.createTextNode(h.cpu[n - 1].toFixed(1) + "%"), spark(h.cpu, "CPU of " + p.spec + ", last minutes"));
      c[4].replaceChildren(document.createTextNode(human(h.rss[n - 1])), spark(h.rss, "memory of " + p.spec + ", last minutes"));
    } else {
      c[3].textContent = ""; c[4].textContent = "";
    }
    if (tr.getAttribute("data-acts") !== p.state) { // keep focus unless the buttons change
      tr.setAttribute("data-acts", p.state);
      c[5].replaceChildren.apply(c[5], procActs(p));
    }
  }
  function groupSection(g) {
    var s = el("section", { "class": "group", "data-group": g.name });
    var h = el("h2");
    h.appendChild(el("button", { type: "button", "class": "toggle", "aria-expanded": "true" }, g.name));
    s.appendChild(h);
    var ga = el("span", { "class": "gacts" });
    ["Start", "Stop", "Restart"].forEach(function (a) {
      ga.appendChild(actForm(a.toLowerCase() + "group", g.name, a + " group", a + " group " + g.name));
    });
    s.appendChild(ga);
    var t = el("table"), head = el("tr");
    ["State", "Name", "Description", "CPU", "Memory", "Actions"].forEach(function (x) { head.appendChild(el("th", { scope: "col" }, x)); });
    t.appendChild(el("thead")).appendChild(head);
    t.appendChild(el("tbody"));
    s.appendChild(t);
    return s;
  }
  function render(st) {
    var seen = {};
    st.groups.forEach(function (g, gi) {
      var s = groupsEl.querySelector('section[data-group="' + CSS.escape(g.name) + '"]');
      if (!s) s = groupSection(g);
      if (groupsEl.children[gi] !== s) groupsEl.insertBefore(s, groupsEl.children[gi] || null);
      seen[g.name] = true;
      var tb = s.querySelector("tbody"), rows = {};
      Array.prototype.forEach.call(tb.rows, function (r) { rows[r.getAttribute("data-spec")] = r; });
      g.procs.forEach(function (p, i) {
        var tr = rows[p.spec];
        if (!tr) {
          tr = el("tr", { "data-spec": p.spec });
          ["state", "name", "desc", "cpu", "mem", "acts"].forEach(function (c) { tr.appendChild(el("td", { "class": c })); });
        }
        delete rows[p.spec];
        if (tb.rows[i] !== tr) tb.insertBefore(tr, tb.rows[i] || null);
        fillRow(tr, p);
      });
      for (var k in rows) rows[k].remove();
    });
    Array.prototype.slice.call(groupsEl.children).forEach(function (s) {
      if (!seen[s.getAttribute("data-group")]) s.remove();
    });
    applyView();
  }
  function applyView() {
    var q = ($("#filter") || {}).value || "";
    q = q.trim().toLowerCase();
    Array.prototype.forEach.call(groupsEl.querySelectorAll("section.group"), function (s) {
      var name = s.getAttribute("data-group"), shown = 0, closed = !!collapsed[name];
      var tgl = s.querySelector(".toggle");
      tgl.setAttribute("aria-expanded", closed ? "false" : "true");
      s.querySelector("table").hidden = closed;
      Array.prototype.forEach.call(s.querySelectorAll("tbody tr"), function (tr) {
        var hit = !q || tr.getAttribute("data-spec").toLowerCase().indexOf(q) >= 0 ||
          tr.cells[0].textContent.toLowerCase().indexOf(q) >= 0;
        tr.hidden = !hit;
        if (hit) shown++;
      });
      s.hidden = shown === 0;
    });
  }
  var timer = null, lastOK = 0, hist = {};
  function poll() {
    clearTimeout(timer);
    if (document.visibilityState === "hidden") return;
    fetch(here + "/ui/state.json" + (lastOK ? "" : "?history=1"), { credentials: "same-origin", cache: "no-store" }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    }).then(function (st) {
      render(st);
      lastOK = Date.now();
      $("#live").textContent = "Live: updated " + new Date().toLocaleTimeString();
    }).catch(function (e) {
      $("#live").textContent = "Not updating (" + e.message + "); retrying";
    }).then(function () { timer = setTimeout(poll, 1000); });
  }

  if (groupsEl) {
    groupsEl.addEventListener("click", function (ev) {
      var t = ev.target.closest(".toggle");
      if (!t) return;
      var name = t.closest("section").getAttribute("data-group");
      collapsed[name] = !collapsed[name];
      try { sessionStorage.setItem("sv-collapsed", JSON.stringify(collapsed)); } catch (e) {}
      applyView();
    });
    $("#filter").addEventListener("input", applyView);
    // "/" goes to the filter (outside a field); Escape in it clears it.
    document.addEventListener("keydown", function (ev) {
      var f = $("#filter"), inField = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName);
      if (ev.key === "/" && !inField && !ev.ctrlKey && !ev.metaKey && !ev.altKey) { ev.preventDefault(); f.focus(); }
      else if (ev.key === "Escape" && document.activeElement === f) { f.value = ""; applyView(); }
    });
    document.addEventListener("visibilitychange", poll);
    applyView();
    poll();
  }

  // ---- log view ----
  var logQuery = document.body.getAttribute("data-log");
  if (logQuery != null && $("#log")) {
    var pre = $("#log"), search = $("#search"), pause = $("#pause"), end = $("#end"), hits = $("#hits");
    var text = null, offset = 0, paused = false, follow = true, cur = -1, limit = 1 << 20;
    [search, pause, end].forEach(function (e) { e.hidden = false; });
    function draw() {
      var q = search.value, marks = [];
      if (!q) { pre.textContent = text; hits.textContent = ""; }
      else {
        var low = text.toLowerCase(), ql = q.toLowerCase(), i = 0, j, frag = document.createDocumentFragment();
        while ((j = low.indexOf(ql, i)) >= 0) {
          frag.appendChild(document.createTextNode(text.slice(i, j)));
          var m = el("mark", null, text.slice(j, j + q.length));
          frag.appendChild(m); marks.push(m);
          i = j + q.length;
        }
        frag.appendChild(document.createTextNode(text.slice(i)));
        pre.replaceChildren(frag);
        hits.textContent = marks.length + " match" + (marks.length === 1 ? "" : "es");
        if (cur >= marks.length) cur = marks.length - 1;
        if (cur >= 0) { marks[cur].classList.add("cur"); }
      }
      if (follow) pre.scrollTop = pre.scrollHeight;
      return marks;
    }
    function logPoll() {
      if (paused || document.visibilityState === "hidden") { setTimeout(logPoll, 1000); return; }
      fetch(here + "/ui/log.json?" + logQuery + "&offset=" + offset, { credentials: "same-origin", cache: "no-store" })
        .then(function (r) { return r.json(); })
        .then(function (j) {
          if (j.error) { hits.textContent = j.error; return; }
          var fresh = text === null;
          if (fresh || j.overflow) text = j.text; else text += j.text;
          if (text.length > limit) text = text.slice(text.length - limit);
          offset = j.offset;
          if (fresh || j.text) draw();
        }).catch(function () {}).then(function () { setTimeout(logPoll, 1000); });
    }
    pre.addEventListener("scroll", function () {
      follow = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    });
    pause.addEventListener("click", function () {
      paused = !paused;
      pause.setAttribute("aria-pressed", String(paused));
      pause.textContent = paused ? "Resume" : "Pause";
    });
    end.addEventListener("click", function () { follow = true; pre.scrollTop = pre.scrollHeight; pre.focus(); });
    search.addEventListener("input", function () { cur = search.value ? 0 : -1; follow = false; var m = draw(); if (m[0]) m[0].scrollIntoView({ block: "center" }); });
    search.addEventListener("keydown", function (ev) {
      if (ev.key !== "Enter") return;
      ev.preventDefault();
      var n = pre.querySelectorAll("mark").length;
      if (!n) return;
      cur = (cur + (ev.shiftKey ? n - 1 : 1)) % n;
      follow = false;
      var m = draw();
      m[cur].scrollIntoView({ block: "center" });
    });
    text = pre.textContent;
    pre.scrollTop = pre.scrollHeight;
    text = null;
    logPoll();
  }
})();
