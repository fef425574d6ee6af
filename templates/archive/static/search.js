/* Search in the archive, in the browser. search/data.js lists the parts of the index
   (window.ARCHIVE_SEARCH.parts); each part, loaded here with a <script> element, hands its
   issues and items to window.ARCHIVE_SEARCH_PARTS.push.

   Titles, the curator's commentary and tags are normalised alike (NFKC, lower case) and
   matched as substrings: that finds Hangul inside words ("스케일링" in "스케일링의") as well
   as English words in any case. Several words: an item must contain all of them. Results
   whose title matches come first, then newest first. ?q= in the address runs a search on
   load, and the address follows what is typed so a search can be shared. No build step. */
(function () {
  "use strict";

  var MAX_RESULTS = 100;
  var SNIPPET_BEFORE = 30;
  var SNIPPET_LENGTH = 120;

  var form = document.getElementById("search-form");
  var input = document.getElementById("q");
  var statusLine = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  if (!form || !input || !statusLine || !list) return;

  var HINT = "제목, 코멘트, 태그에서 찾습니다. 여러 단어는 모두 들어간 소식만 보여 줍니다.";
  var items = null;  // every item, newest issue first, once the parts are in

  function normalise(text) {
    return (text || "").normalize("NFKC").toLowerCase();
  }

  // part: {issues: [[link, number, date, subject, preview]], items: [[issue index, id, title,
  // commentary, tags]]} -> what is matched and shown, in issue order, then the issue's order
  function indexParts(parts) {
    var all = [];
    parts.forEach(function (part) {
      part.items.forEach(function (row, order) {
        var issue = part.issues[row[0]];
        all.push({
          issue: issue, id: row[1], title: row[2], text: row[3], tags: row[4], order: order,
          titleKey: normalise(row[2]), textKey: normalise(row[3]), tagsKey: normalise(row[4])
        });
      });
    });
    all.sort(function (a, b) { return (b.issue[1] - a.issue[1]) || (a.order - b.order); });
    return all;
  }

  function load() {
    var data = window.ARCHIVE_SEARCH;
    var failed = function () {
      statusLine.textContent = "검색 색인을 불러오지 못했습니다. 잠시 뒤 다시 열어 주세요.";
    };
    if (!data) { failed(); return; }
    var parts = window.ARCHIVE_SEARCH_PARTS = [];
    var waiting = data.parts.length;
    var done = function () {
      items = indexParts(parts);
      if (input.value.trim()) run(); else statusLine.textContent = HINT;
    };
    if (!waiting) { done(); return; }
    statusLine.textContent = "검색 색인을 불러오는 중…";
    data.parts.forEach(function (link) {
      var script = document.createElement("script");
      script.src = link;
      script.onload = function () { if (--waiting === 0) done(); };
      script.onerror = function () { waiting = -1; failed(); };
      document.head.appendChild(script);
    });
  }

  function termsOf(query) {
    return normalise(query).split(/\s+/).map(function (term) {
      return term.replace(/^#+/, "");
    }).filter(Boolean);
  }

  function matches(item, terms) {
    var titleHits = 0;
    for (var i = 0; i < terms.length; i++) {
      var inTitle = item.titleKey.indexOf(terms[i]) >= 0;
      if (!inTitle && item.textKey.indexOf(terms[i]) < 0 && item.tagsKey.indexOf(terms[i]) < 0) return -1;
      if (inTitle) titleHits++;
    }
    return titleHits;
  }

  function append(parent, tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    parent.appendChild(node);
    return node;
  }

  // The commentary around the first term found, with every term marked.
  function snippet(item, terms) {
    var start = 0;
    for (var i = 0; i < terms.length; i++) {
      var at = item.textKey.indexOf(terms[i]);
      if (at >= 0) { start = Math.max(0, at - SNIPPET_BEFORE); break; }
    }
    var text = item.text.slice(start, start + SNIPPET_LENGTH);
    var key = item.textKey.slice(start, start + SNIPPET_LENGTH);
    var paragraph = document.createElement("p");
    paragraph.className = "snippet";
    if (start > 0) paragraph.appendChild(document.createTextNode("…"));
    var position = 0;
    while (position < text.length) {
      var next = -1, length = 0;
      for (var t = 0; t < terms.length; t++) {
        var found = key.indexOf(terms[t], position);
        if (found >= 0 && (next < 0 || found < next)) { next = found; length = terms[t].length; }
      }
      if (next < 0) break;
      paragraph.appendChild(document.createTextNode(text.slice(position, next)));
      append(paragraph, "mark", "", text.slice(next, next + length));
      position = next + length;
    }
    paragraph.appendChild(document.createTextNode(text.slice(position)));
    if (start + SNIPPET_LENGTH < item.text.length) paragraph.appendChild(document.createTextNode("…"));
    return paragraph;
  }

  function show(found, terms) {
    list.textContent = "";
    found.slice(0, MAX_RESULTS).forEach(function (hit) {
      var item = hit.item;
      var li = append(list, "li", "result");
      var heading = append(li, "h3", "item-title");
      var link = append(heading, "a", "", item.title);
      link.href = item.issue[0] + "#item-" + item.id;
      var meta = "#" + item.issue[1] + " · " + item.issue[2] + (item.issue[4] ? " · 미리보기" : "");
      append(li, "p", "muted", meta);
      if (item.text) li.appendChild(snippet(item, terms));
      if (item.tags) append(li, "p", "tags", item.tags.split(" ").map(function (tag) { return "#" + tag; }).join(" "));
    });
  }

  function run() {
    var query = input.value;
    var terms = termsOf(query);
    try {
      var address = new URL(window.location.href);
      if (query.trim()) address.searchParams.set("q", query); else address.searchParams.delete("q");
      window.history.replaceState(null, "", address.href);
    } catch (refused) { /* some browsers refuse on file:// pages; the search still works */ }
    if (!items) return;  // the parts are still loading; done() searches then
    if (!terms.length) {
      list.textContent = "";
      statusLine.textContent = HINT;
      return;
    }
    var found = [];
    items.forEach(function (item, order) {
      var score = matches(item, terms);
      if (score >= 0) found.push({item: item, score: score, order: order});
    });
    found.sort(function (a, b) { return (b.score - a.score) || (a.order - b.order); });
    show(found, terms);
    statusLine.textContent = found.length
      ? "‘" + query.trim() + "’ 검색 결과 " + found.length + "개" + (found.length > MAX_RESULTS ? " (처음 " + MAX_RESULTS + "개 표시)" : "")
      : "‘" + query.trim() + "’에 맞는 소식이 없습니다.";
  }

  var pending = null;
  function soon() {
    window.clearTimeout(pending);
    pending = window.setTimeout(run, 60);
  }

  // While Hangul is being composed each keystroke changes the last syllable; searching on
  // every one is cheap, and compositionend makes sure the finished word is searched.
  input.addEventListener("input", soon);
  input.addEventListener("compositionend", soon);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    run();
  });

  var initial = new URLSearchParams(window.location.search).get("q");
  if (initial) input.value = initial;
  load();
}());
