/* Search in the archive, in the browser, over a sharded index (newsletter/archive/search.py
   builds it and says how it is laid out). search/data.js lists the blocks of issues; for each
   query word this loads, per block, the one bucket its first two characters (or its one
   character) hash to, and keeps the tokens holding the word; then the files holding the
   items shown (DOC_ITEMS of an issue a file). Files are scripts calling window.ARCHIVE_SEARCH_LOADED, loaded with
   <script> elements: that works from a static host, under /archive and from disk alike
   (browsers refuse fetch() on file:// pages).

   Titles, the curator's commentary and tags are normalised alike (NFKC, lower case) and
   matched as substrings: that finds Hangul inside words ("모델" in "모델을", "언어모델") as
   well as English words in any case. Several words: an item must contain all of them. Results
   whose title matches come first, then newest first, PAGE at a time. ?q= in the address runs
   a search on load, and the address follows what is typed so a search can be shared. Nothing
   is searched while an IME is composing: compositionend searches the finished syllables. */
(function () {
  "use strict";

  var PAGE = 20;
  var SNIPPET_BEFORE = 30;
  var SNIPPET_LENGTH = 120;
  var TITLE = 1, FIELD_BITS = 3, DOC_ITEMS = 5;  // as search.py

  var form = document.getElementById("search-form");
  var input = document.getElementById("q");
  var statusLine = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  var more = document.getElementById("search-more");
  if (!form || !input || !statusLine || !list || !more) return;

  var HINT = "제목, 코멘트, 태그에서 찾습니다. 여러 단어는 모두 들어간 소식만 보여 줍니다.";
  var FAILED = "검색 색인을 불러오지 못했습니다. 잠시 뒤 다시 해 주세요.";
  var index = window.ARCHIVE_SEARCH;
  var current = 0;  // the search under way; an answer to an older one is dropped
  var hits = [], shown = 0, shownTerms = [], shownQuery = "";

  function normalise(text) {
    return (text || "").normalize("NFKC").toLowerCase();
  }

  // -- loading the index's scripts: one promise per file, kept, so nothing loads twice --
  var waiting = {}, loaded = {};
  window.ARCHIVE_SEARCH_LOADED = function (name, data) {
    if (waiting[name]) waiting[name](data);
  };
  function load(name, version) {
    if (!loaded[name]) {
      loaded[name] = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        waiting[name] = resolve;
        script.src = name + ".js?v=" + version;
        script.onload = function () { script.remove(); };
        script.onerror = function () { script.remove(); delete loaded[name]; reject(new Error(name)); };
        document.head.appendChild(script);
      });
    }
    return loaded[name];
  }

  // FNV-1a over code points, as search.py's bucket_of
  function bucketOf(key, buckets) {
    var value = 0x811c9dc5;
    Array.from(key).forEach(function (character) {
      value = Math.imul(value ^ character.codePointAt(0), 0x01000193) >>> 0;
    });
    return value % buckets;
  }

  function termsOf(query) {
    var seen = {};
    return normalise(query).split(/\s+/).map(function (term) {
      return term.replace(/^#+/, "");
    }).filter(function (term) {
      if (!term || seen[term]) return false;
      seen[term] = true;
      return true;
    });
  }

  function keyOf(term) {
    var characters = Array.from(term);
    return characters.length === 1 ? term : characters.slice(0, 2).join("");
  }

  function bucketName(block, term) {
    var bucket = bucketOf(keyOf(term), block.buckets).toString(16);
    return block.dir + "/" + "000".slice(bucket.length) + bucket;
  }

  // {item number in the block: fields} of the items holding `term`
  function lookup(bucket, term) {
    var found = {};
    var mask = (1 << FIELD_BITS) - 1;
    function add(encoded) {
      var number = 0;
      if (typeof encoded === "string") {  // a bitmap, as search.py's _bitmap writes it
        var lead = +encoded.charAt(0), width = lead ? 1 : FIELD_BITS;
        var bytes = atob(encoded.slice(1));
        for (var bit = 0; bit + width <= bytes.length * 8; bit += width, number++) {
          var fields = 0;
          for (var b = 0; b < width; b++) {
            if ((bytes.charCodeAt((bit + b) >> 3) >> ((bit + b) & 7)) & 1) fields |= 1 << b;
          }
          if (fields) found[number] = (found[number] || 0) | (lead || fields);
        }
        return;
      }
      for (var i = 0; i < encoded.length; i++) {
        number += encoded[i] >> FIELD_BITS;
        found[number] = (found[number] || 0) | (encoded[i] & mask);
      }
    }
    if (Array.from(term).length === 1) {
      if (Object.prototype.hasOwnProperty.call(bucket[1], term)) add(bucket[1][term]);
    } else {
      Object.keys(bucket[0]).forEach(function (token) {
        if (token.indexOf(term) >= 0) add(bucket[0][token]);
      });
    }
    return found;
  }

  // the items of a block holding every term: [{issue, position, score}], score = terms in the title
  function matchBlock(block, buckets, terms) {
    var sets = terms.map(function (term, t) { return lookup(buckets[t], term); });
    var places = [];
    block.issues.forEach(function (issue) {
      for (var position = 0; position < issue[2]; position++) places.push([issue, position]);
    });
    var found = [];
    Object.keys(sets[0]).forEach(function (key) {
      var score = 0;
      for (var t = 0; t < sets.length; t++) {
        var fields = sets[t][key];
        if (!fields) return;
        if (fields & TITLE) score++;
      }
      var place = places[+key];
      if (place) found.push({block: block, issue: place[0], position: place[1], score: score});
    });
    return found;
  }

  function append(parent, tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    parent.appendChild(node);
    return node;
  }

  // The commentary around the first term found, with every term marked.
  function snippet(text, terms) {
    var textKey = normalise(text);
    var start = 0;
    for (var i = 0; i < terms.length; i++) {
      var at = textKey.indexOf(terms[i]);
      if (at >= 0) { start = Math.max(0, at - SNIPPET_BEFORE); break; }
    }
    var part = text.slice(start, start + SNIPPET_LENGTH);
    var key = textKey.slice(start, start + SNIPPET_LENGTH);
    var paragraph = document.createElement("p");
    paragraph.className = "snippet";
    if (start > 0) paragraph.appendChild(document.createTextNode("…"));
    var position = 0;
    while (position < part.length) {
      var next = -1, length = 0;
      for (var t = 0; t < terms.length; t++) {
        var found = key.indexOf(terms[t], position);
        if (found >= 0 && (next < 0 || found < next)) { next = found; length = terms[t].length; }
      }
      if (next < 0) break;
      paragraph.appendChild(document.createTextNode(part.slice(position, next)));
      append(paragraph, "mark", "", part.slice(next, next + length));
      position = next + length;
    }
    paragraph.appendChild(document.createTextNode(part.slice(position)));
    if (start + SNIPPET_LENGTH < text.length) paragraph.appendChild(document.createTextNode("…"));
    return paragraph;
  }

  function row(hit, doc, terms) {
    var item = doc.items[hit.position % DOC_ITEMS];  // [id, title, commentary, tags]
    var li = append(list, "li", "result");
    var heading = append(li, "h3", "item-title");
    var link = append(heading, "a", "", item[1]);
    link.href = doc.link + "#item-" + item[0];
    append(li, "p", "muted", "#" + doc.number + " · " + doc.date + (doc.preview ? " · 미리보기" : ""));
    if (item[2]) li.appendChild(snippet(item[2], terms));
    if (item[3]) append(li, "p", "tags", item[3].split(" ").map(function (tag) { return "#" + tag; }).join(" "));
    return link;
  }

  function summary() {
    var text = "‘" + shownQuery + "’ 검색 결과 " + hits.length + "개";
    return hits.length > shown ? text + " (" + shown + "개 표시)" : text;
  }

  // The next PAGE results, once their issues' files are in; `focus` moves to the first of them
  // (after "더 보기", so a keyboard user goes on where the new results begin).
  function showMore(search, focus) {
    var page = hits.slice(shown, shown + PAGE);
    var docs = page.map(function (hit) {
      return load("docs/" + hit.issue[0] + "-" + (Math.floor(hit.position / DOC_ITEMS) + 1), hit.block.v);
    });
    return Promise.all(docs).then(function (loadedDocs) {
      if (search !== current) return;
      var first = null;
      page.forEach(function (hit, i) {
        var link = row(hit, loadedDocs[i], shownTerms);
        first = first || link;
      });
      shown += page.length;
      more.hidden = shown >= hits.length;
      statusLine.textContent = summary();
      if (focus && first) first.focus();
    });
  }

  function run() {
    var query = input.value;
    var terms = termsOf(query);
    var search = ++current;
    try {
      var address = new URL(window.location.href);
      if (query.trim()) address.searchParams.set("q", query); else address.searchParams.delete("q");
      window.history.replaceState(null, "", address.href);
    } catch (refused) { /* some browsers refuse on file:// pages; the search still works */ }
    if (!index) { statusLine.textContent = FAILED; return; }
    if (!terms.length) {
      list.textContent = "";
      more.hidden = true;
      statusLine.textContent = HINT;
      return;
    }
    statusLine.textContent = "찾는 중…";
    var blocks = index.blocks.map(function (block) {
      return Promise.all(terms.map(function (term) { return load(bucketName(block, term), block.v); }))
        .then(function (buckets) { return matchBlock(block, buckets, terms); });
    });
    Promise.all(blocks).then(function (found) {
      if (search !== current) return;
      hits = [].concat.apply([], found);
      hits.sort(function (a, b) {
        return (b.score - a.score) || (b.issue[1] - a.issue[1]) || (a.position - b.position);
      });
      shown = 0;
      shownTerms = terms;
      shownQuery = query.trim();
      list.textContent = "";
      more.hidden = true;
      if (!hits.length) {
        statusLine.textContent = "‘" + shownQuery + "’에 맞는 소식이 없습니다.";
        return;
      }
      return showMore(search, false);
    }).catch(function () {
      if (search === current) statusLine.textContent = FAILED;
    });
  }

  var pending = null;
  function soon() {
    window.clearTimeout(pending);
    pending = window.setTimeout(run, 150);
  }

  // While Hangul is being composed each keystroke changes the last syllable, and every
  // half-made syllable would load buckets of its own: wait for compositionend.
  input.addEventListener("input", function (event) {
    if (!event.isComposing) soon();
  });
  input.addEventListener("compositionend", soon);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    run();
  });
  more.addEventListener("click", function () {
    more.hidden = true;
    showMore(current, true).catch(function () {
      more.hidden = false;
      statusLine.textContent = FAILED;
    });
  });

  var initial = new URLSearchParams(window.location.search).get("q");
  if (initial) {
    input.value = initial;
    run();
  } else if (!index) {
    statusLine.textContent = FAILED;
  }
}());
