// The composer's keys and in-place changes. Every button is a plain form that works without
// this script; with it, reorder, remove and edits go through /api/issue and the preview
// iframe is loaded again, without reloading the page. Builds on static/editor.js.
(function () {
  "use strict";

  var E = window.NewsletterEditor;
  var root = document.getElementById("composer");
  if (!E || !root) return;
  var issueDate = root.dataset.date;
  var editable = root.dataset.editable === "true";
  var selected = -1;
  var version = 0;
  var pending = Promise.resolve();

  function entries() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-issue-item]"));
  }

  function select(index, quietly) {
    var list = entries();
    if (!list.length) { selected = -1; return; }
    selected = Math.max(0, Math.min(list.length - 1, index));
    list.forEach(function (entry, n) {
      entry.classList.toggle("selected", n === selected);
      if (n === selected) entry.setAttribute("aria-current", "true"); else entry.removeAttribute("aria-current");
    });
    if (!quietly) list[selected].scrollIntoView({block: "nearest"});
  }

  function current() {
    return entries()[selected];
  }

  function renumber() {
    entries().forEach(function (entry, n) { entry.querySelector(".position").textContent = n + 1; });
    document.querySelectorAll("[data-issue-section]").forEach(function (section) {
      section.querySelector("h3 .count").textContent = section.querySelectorAll("[data-issue-item]").length;
    });
    document.getElementById("item-count").textContent = entries().length;
  }

  // One change at a time, in the order made: the server sees them as the curator did.
  function send(url, body) {
    body.date = issueDate;
    var result = pending.then(function () { return E.post(url, body); });
    pending = result.catch(function () { return null; });
    return result;
  }

  function setText(id, text) {
    var element = document.getElementById(id);
    if (element) element.textContent = text;
  }

  function showSize(size) {
    var box = document.getElementById("size");
    if (!size || !box) return;
    var meter = document.getElementById("size-meter");
    var note = document.getElementById("size-note");
    box.dataset.status = size.status;
    meter.value = size.bytes;
    setText("size-text", size.kb + " KB / " + Math.floor(size.clip_bytes / 1024) + " KB");
    note.textContent = note.dataset[size.status] || "";
  }

  function showProblems(problems) {
    var list = document.getElementById("problems");
    list.replaceChildren.apply(list, problems.map(function (problem) {
      var line = document.createElement("li");
      line.className = "error";
      line.textContent = problem;
      return line;
    }));
    list.hidden = !problems.length;
  }

  function refreshPreview() {
    var frame = document.getElementById("preview");
    frame.src = frame.dataset.src + "&v=" + (++version);
  }

  // The issue as the server now has it: everything shown beside the list follows.
  function apply(issue) {
    setText("subject-line", issue.subject);
    setText("preheader-line", issue.preheader);
    setText("default-subject", issue.default_subject);
    setText("default-preheader", issue.default_preheader);
    document.getElementById("subject").placeholder = issue.default_subject;
    document.getElementById("preheader").placeholder = issue.default_preheader;
    setText("text-part", issue.text);
    showSize(issue.size);
    showProblems(issue.problems);
    refreshPreview();
  }

  function move(entry, offset) {
    if (!entry || !editable) return;
    var list = entry.parentNode, before = entry.nextElementSibling;
    var sibling = offset < 0 ? entry.previousElementSibling : entry.nextElementSibling;
    if (!sibling) { E.say("섹션 안에서만 옮길 수 있습니다"); return; }
    list.insertBefore(entry, offset < 0 ? sibling : sibling.nextElementSibling);
    renumber();
    select(entries().indexOf(entry));
    var ids = entries().map(function (e) { return parseInt(e.dataset.issueItem, 10); });
    send("/api/issue/reorder", {ids: ids}).then(function (issue) {
      apply(issue);
      E.say("순서를 바꿨습니다");
    }, function (error) {
      list.insertBefore(entry, before);  // nothing changed on the server: nor here
      renumber();
      select(entries().indexOf(entry));
      E.failed(error);
    });
  }

  function remove(entry) {
    if (!entry || !editable) return;
    var title = entry.querySelector(".title").textContent;
    send("/api/issue/remove", {id: parseInt(entry.dataset.issueItem, 10)}).then(function (issue) {
      var index = entries().indexOf(entry);
      var section = entry.closest("[data-issue-section]");
      entry.remove();
      if (section && !section.querySelector("[data-issue-item]")) section.remove();
      renumber();
      select(Math.min(index, entries().length - 1));
      apply(issue);
      E.say("이번 호에서 뺐습니다: " + title);
    }, E.failed);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var kind = form.dataset.composer;
    if (kind !== "move" && kind !== "remove") return;
    event.preventDefault();
    var entry = form.closest("[data-issue-item]");
    select(entries().indexOf(entry));
    if (kind === "remove") remove(entry);
    else move(entry, parseInt((event.submitter && event.submitter.dataset.move) || "0", 10));
  });

  var form = document.getElementById("issue-form");
  var status = document.getElementById("edit-status");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!editable) return;
    status.textContent = "저장 중…";
    send("/api/issue/edit", {subject: form.elements.subject.value, preheader: form.elements.preheader.value,
                             note: form.elements.note.value}).then(function (issue) {
      apply(issue);
      status.textContent = "저장했습니다";
      E.say("저장했습니다: " + issue.subject);
    }, function (error) {
      status.textContent = "";
      E.failed(error);
    });
  });
  form.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && !E.imeBusy(event)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    // a width radio keeps focus after a click; its keys are the arrows, so letters stay commands
    if (E.typingIn(event.target) && event.target.type !== "radio") return;
    if (E.notACommand(event)) return;
    var key = E.shortcutKey(event), handled = true;
    var rebuild = document.getElementById("build-form");
    if (key === "Enter" && event.target instanceof Element && event.target.closest("a, button, summary")) return;
    if (key === "j") select(selected + 1);
    else if (key === "k") select(selected - 1);
    else if (key === "J") move(current(), 1);
    else if (key === "K") move(current(), -1);
    else if (key === "x") remove(current());
    else if (key === "r" && rebuild) rebuild.requestSubmit();  // bring the issue up to date with the picks
    else if (key === "e" || key === "Enter") {
      if (current()) location.href = current().dataset.editUrl;
    }
    else handled = false;
    if (handled) event.preventDefault();
  });

  var anchored = location.hash && document.getElementById(location.hash.slice(1));
  select(anchored ? entries().indexOf(anchored) : 0, !anchored);  // the page opens at its top
})();
