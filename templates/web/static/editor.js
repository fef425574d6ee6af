// The editor's keys, drafts and tag suggestions. Hand-written, no build step; every page
// works without it (plain forms), this only adds speed on top.
//
// Shortcuts never fire while an input has focus or while an IME is composing: the curator
// types Hangul, and a composing keydown arrives as keyCode 229 / isComposing. They match the
// physical key (event.code), so they work with the keyboard left in Hangul mode: there j
// arrives as key "ㅓ", code "KeyJ", keyCode 74 or 229, with no field focused and nothing composed.
(function () {
  "use strict";

  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var page = document.body.dataset.page || "";
  var composing = false;
  document.addEventListener("compositionstart", function () { composing = true; }, true);
  document.addEventListener("compositionend", function () { composing = false; }, true);

  function imeBusy(event) {
    return event.isComposing || event.keyCode === 229 || composing;
  }

  // Physical keys -> the letter a shortcut is named by, whatever the input mode.
  var CODES = {KeyJ: "j", KeyK: "k", KeyA: "a", KeyX: "x", KeyS: "s", KeyE: "e", KeyU: "u", KeyO: "o",
               KeyD: "d", KeyR: "r", Slash: "/", Space: " "};

  function shortcutKey(event) {
    var letter = CODES[event.code];
    if (!letter) return event.key;
    if (/^[a-zA-Z?/ ]$/.test(event.key)) return event.key;  // a Latin layout already says which
    if (event.code === "Slash") return event.shiftKey ? "?" : "/";
    return event.shiftKey && letter !== " " ? letter.toUpperCase() : letter;  // Hangul mode: "ㅓ" is j
  }

  function typingIn(target) {
    return target instanceof Element &&
      (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  var flashTimer = null;
  function say(message, isError) {
    // A toast at the bottom of the window, where the eyes are (not the top of a long page).
    var flash = document.getElementById("flash");
    if (!flash) return;
    flash.textContent = message;
    flash.className = (isError ? "error" : "ok") + " shown";
    clearTimeout(flashTimer);
    if (!isError) flashTimer = setTimeout(function () { flash.classList.remove("shown"); }, 4000);
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrf},
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (data) {
        if (!response.ok) {
          var error = new Error((data && data.error) || response.status + " " + response.statusText);
          error.status = response.status;
          throw error;
        }
        return data;
      });
    });
  }

  function failed(error) {
    if (error.status === 401 || error.status === 403) {
      say("로그인이 끝났습니다. 다시 로그인하세요 (" + error.message + ")", true);
    } else {
      say("실패: " + error.message, true);
    }
  }

  // What static/composer.js builds on (the composer page loads it after this script).
  // A keydown that is no command: a composition, or an IME's leftover after one (keyCode 229
  // with no physical key). Hangul mode itself (229 with a code) is a command.
  function notACommand(event) {
    return event.isComposing || composing || (event.keyCode === 229 && !CODES[event.code]);
  }

  window.NewsletterEditor = {post: post, say: say, failed: failed, imeBusy: imeBusy, typingIn: typingIn,
                             shortcutKey: shortcutKey, notACommand: notACommand};

  // --- lists: the queue and today's picks ------------------------------------------------

  var LABELS = {"new": "대기", "approved": "승인", "rejected": "거절", "snoozed": "내일 다시", "published": "발행됨",
                "dismissed": "오늘은 넘김", "seen": "지난 항목"};
  var selected = -1;

  // Counts in the nav and the section tabs follow each decision without a reload.
  function bump(id, by) {
    var element = document.getElementById(id);
    if (element && element.textContent.trim() !== "") element.textContent = Math.max(0, parseInt(element.textContent, 10) + by);
  }
  function recount(card, before, after) {
    var waitingBefore = before === "new", waitingAfter = after === "new";
    if (waitingBefore !== waitingAfter) {
      var by = waitingAfter ? 1 : -1;
      bump("waiting-count", by);
      var section = card.dataset.section || "";
      document.querySelectorAll('[data-section-count="' + section + '"], [data-section-count=""]').forEach(function (el) {
        el.textContent = Math.max(0, parseInt(el.textContent, 10) + by);
      });
    }
    if ((before === "approved") !== (after === "approved")) bump("picks-count", after === "approved" ? 1 : -1);
  }

  function cards() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-item-card]"));
  }

  function select(index) {
    var list = cards();
    if (!list.length) return;
    selected = Math.max(0, Math.min(list.length - 1, index));
    list.forEach(function (card, n) {
      card.classList.toggle("selected", n === selected);
      if (n === selected) card.setAttribute("aria-current", "true"); else card.removeAttribute("aria-current");
    });
    // Keep context above and below the selection, not just the row itself.
    var box = list[selected].getBoundingClientRect(), margin = Math.min(160, window.innerHeight / 4);
    if (box.top < margin || box.bottom > window.innerHeight - margin) {
      window.scrollBy({top: box.top - margin, behavior: "instant"});
    }
  }

  function step(offset) {
    // j/k run on across pages: past the last row, the next page opens at its first row.
    var list = cards(), target = selected + offset;
    var pager = document.querySelector(offset > 0 ? '.pager a[rel="next"]' : '.pager a[rel="prev"]');
    if ((target >= list.length || target < 0) && pager) {
      location.href = pager.href.split("#")[0] + (offset > 0 ? "#first" : "#last");
      return;
    }
    select(target);
  }

  function toggleAbstract() {
    var card = current(), more = card && card.querySelector("details.more");
    if (more) more.open = !more.open;
  }

  function current() {
    return cards()[selected];
  }

  function showStatus(card, item) {
    recount(card, card.dataset.status, item.status);
    card.dataset.status = item.status;
    card.className = card.className.replace(/\bstatus-\w+/, "status-" + item.status);
    var label = card.querySelector("[data-role=status]");
    if (label) label.textContent = LABELS[item.status] || item.status;
  }

  function triage(action) {
    var card = current();
    if (!card) return;
    post("/api/items/" + card.dataset.item + "/" + action).then(function (item) {
      showStatus(card, item);
      say(LABELS[item.status] + ": " + item.title);
      select(selected + 1);
    }, failed);
  }

  function dismissDay() {
    // "오늘은 여기까지": the rest of this section (or of the whole queue) is done for today.
    var form = document.getElementById("dismiss-form");
    if (!form) return;
    var section = form.elements.section.value;
    post("/api/queue/dismiss", section ? {section: section} : {}).then(function (data) {
      location.href = location.pathname + location.search.replace(/([?&])notice=[^&]*&?/, "$1") +
        (location.search ? "&" : "?") + "notice=dismissed&n=" + data.dismissed;
    }, failed);
  }

  function undo() {
    post("/api/undo").then(function (data) {
      if (!data.item) { say("되돌릴 작업이 없습니다"); return; }
      if (data.restored > 1) { location.reload(); return; }  // a whole dismissed day is back
      var card = document.querySelector('[data-item-card][data-item="' + data.item.id + '"]');
      if (page === "picks") { location.reload(); return; }
      if (card) { showStatus(card, data.item); select(cards().indexOf(card)); }
      say("되돌렸습니다: " + data.item.title);
    }, failed);
  }

  function movePick(offset) {
    var card = current();
    if (!card) return;
    var item = card.closest("li"), list = item.parentNode;
    var sibling = offset < 0 ? item.previousElementSibling : item.nextElementSibling;
    if (!sibling) return;
    list.insertBefore(item, offset < 0 ? sibling : sibling.nextElementSibling);
    var ids = cards().map(function (c) { return parseInt(c.dataset.item, 10); });
    cards().forEach(function (c, n) { var p = c.querySelector(".position"); if (p) p.textContent = n + 1; });
    select(cards().indexOf(card));
    post("/api/picks/reorder", {ids: ids}).then(function () { say("순서를 바꿨습니다"); }, function (error) {
      failed(error);
      location.reload();
    });
  }

  function toggleHelp(open) {
    var help = document.getElementById("keys-help");
    if (help) help.open = open === undefined ? !help.open : open;
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (typingIn(event.target)) {  // a field: its own keys, composing or not
      if (event.key === "Escape" && !imeBusy(event)) event.target.blur();
      return;
    }
    // No field has focus: keyCode 229 with a physical key is Hangul mode, not a composition;
    // without one it is an IME's leftover after a composition ended.
    if (notACommand(event)) return;
    var key = shortcutKey(event), handled = true;
    if ((key === "Enter" || key === " ") && event.target instanceof Element && event.target.closest("a, button, summary")) return;
    if (key === "?") toggleHelp();
    else if (key === "Escape") toggleHelp(false);
    else if (page !== "queue" && page !== "picks") handled = false;
    else if (key === "j") step(1);
    else if (key === "k") step(-1);
    else if (key === "o" || key === " ") toggleAbstract();
    else if (key === "u") undo();
    else if (page === "queue" && key === "d") dismissDay();
    else if (key === "e" || key === "Enter") {
      if (current()) location.href = current().dataset.editUrl;
    }
    else if (page === "queue" && key === "a") triage("approve");
    else if (page === "queue" && key === "x") triage("reject");
    else if (page === "queue" && key === "s") triage("snooze");
    else if (page === "queue" && key === "/") {
      var search = document.getElementById("search");
      if (search) { search.focus(); search.select(); }
    }
    else if (page === "picks" && key === "J") movePick(1);
    else if (page === "picks" && key === "K") movePick(-1);
    else handled = false;
    if (handled) event.preventDefault();
  });

  if (page === "queue" || page === "picks") {
    var anchored = location.hash && /^#item-|^#pick-/.test(location.hash) && document.getElementById(location.hash.slice(1));
    select(anchored ? cards().indexOf(anchored) : location.hash === "#last" ? cards().length - 1 : 0);
    // A form save that landed here succeeded: this browser's unsaved copy is no longer needed.
    var match = /^#item-(\d+)$/.exec(location.hash);
    if (match && /[?&]notice=saved\b/.test(location.search)) localStorage.removeItem("newsletter-draft:" + match[1]);
  }

  // --- editing one item: drafts saved as the curator types -------------------------------

  var form = document.getElementById("edit-form");
  if (form) {
    var itemId = form.dataset.item;
    var storageKey = "newsletter-draft:" + itemId;
    var status = document.getElementById("draft-status");
    var timer = null;

    var snapshot = function () {
      return {commentary: form.elements.commentary.value, tags: form.elements.tags.value,
              title_override: form.elements.title_override.value};
    };
    var keepLocally = function () {
      var copy = snapshot();
      copy.at = Date.now();
      try { localStorage.setItem(storageKey, JSON.stringify(copy)); } catch (e) { /* private mode: server only */ }
    };
    // The item's edit version this form shows: drafts and the save carry it, so neither can
    // bring back text saved over since (the server refuses them with 409).
    var version = form.elements.edited.value;
    var saveDraft = function () {
      timer = null;
      var sent = snapshot();
      post("/api/items/" + itemId + "/draft", Object.assign({edited: version}, sent)).then(function (data) {
        var now = snapshot();
        if (now.commentary === sent.commentary && now.tags === sent.tags && now.title_override === sent.title_override) {
          localStorage.removeItem(storageKey);
        }
        status.dataset.state = "saved";
        status.textContent = "초안 저장됨 " + new Date(data.saved).toLocaleTimeString("ko-KR");
      }, function (error) {
        status.dataset.state = "failed";
        if (error.status === 401 || error.status === 403) {
          status.textContent = "로그인이 끝났습니다. 입력한 내용은 이 브라우저에 보관했습니다: 다시 로그인하면 이어서 쓸 수 있습니다. ";
          var link = document.createElement("a");
          link.href = "/login?next=" + encodeURIComponent(location.pathname + location.search);
          link.textContent = "다시 로그인";
          status.appendChild(link);
        } else {
          status.textContent = "초안을 저장하지 못했습니다: " + error.message;
        }
      });
    };
    var schedule = function () {
      keepLocally();
      status.dataset.state = "pending";
      clearTimeout(timer);
      timer = setTimeout(saveDraft, 500);
    };

    // What this browser kept when a save failed (an expired session, a crash) comes back.
    // Only a copy typed after the item's last save: an older one would undo that save.
    var kept = null;
    try { kept = JSON.parse(localStorage.getItem(storageKey) || "null"); } catch (e) { kept = null; }
    if (kept && version && !(kept.at > Date.parse(version))) {
      localStorage.removeItem(storageKey);
      kept = null;
    }
    if (kept) {
      var shown = snapshot();
      if (kept.commentary !== shown.commentary || kept.tags !== shown.tags || kept.title_override !== shown.title_override) {
        form.elements.commentary.value = kept.commentary || "";
        form.elements.tags.value = kept.tags || "";
        form.elements.title_override.value = kept.title_override || "";
        say("이 브라우저에 남아 있던, 저장되지 않은 내용을 되살렸습니다.");
        saveDraft();
      } else {
        localStorage.removeItem(storageKey);
      }
    }

    ["commentary", "tags", "title_override"].forEach(function (name) {
      form.elements[name].addEventListener("input", schedule);
    });
    // A model draft is a proposal: it fills the box only while the box is empty, and replaces
    // typed text only when the curator presses "이 초안을 코멘터리 칸에 넣기".
    var proposal = document.getElementById("model-draft-text");
    var putDraft = function () {
      form.elements.commentary.value = document.getElementById("model-draft-body").textContent;
      form.elements.commentary.dispatchEvent(new Event("input", {bubbles: true}));  // kept as the curator's draft
      form.elements.commentary.focus();
    };
    var askModel = function () {
      var button = document.getElementById("suggest-button");
      if (!button || button.disabled) return;
      button.disabled = true;
      say("모델에게 초안을 묻는 중…");
      post("/api/items/" + itemId + "/suggest").then(function (data) {
        document.getElementById("model-draft-body").textContent = data.draft;
        document.getElementById("model-draft-model").textContent = data.model;
        proposal.hidden = false;
        var stale = document.getElementById("model-draft-error");
        if (stale) stale.remove();
        if (!form.elements.commentary.value.trim()) { putDraft(); say("모델 초안을 넣었습니다 (" + data.model + "): 다듬어서 저장하세요"); }
        else say("모델 초안이 아래에 있습니다: 쓰던 코멘터리는 그대로입니다");
      }, failed).then(function () { button.disabled = false; });
    };
    if (proposal) {
      document.getElementById("suggest-button").addEventListener("click", askModel);
      document.getElementById("use-model-draft").addEventListener("click", putDraft);
    }

    form.addEventListener("keydown", function (event) {
      if (event.code === "KeyS" && event.ctrlKey && event.shiftKey && !imeBusy(event)) {
        event.preventDefault();
        askModel();
        return;
      }
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && !imeBusy(event)) {
        event.preventDefault();
        // Ctrl+Shift+Enter: save and approve in one go.
        form.requestSubmit(event.shiftKey ? form.querySelector('button[name="then"][value="approve"]') : undefined);
      }
    });
    form.addEventListener("submit", function () {
      // The save carries the text: a pending autosave or this browser's copy would outlive it.
      clearTimeout(timer);
      timer = null;
      localStorage.removeItem(storageKey);
    });
    window.addEventListener("pagehide", function () {
      if (timer === null) return;  // nothing unsaved
      var data = new FormData();
      var now = snapshot();
      data.append("csrf", csrf);
      data.append("edited", version);
      Object.keys(now).forEach(function (name) { data.append(name, now[name]); });
      navigator.sendBeacon("/items/" + itemId + "/draft", data);
    });

    setUpTagSuggestions(form.elements.tags, document.getElementById("tag-suggestions"));
  }

  // --- hashtags: suggestions from tags already used ---------------------------------------

  function setUpTagSuggestions(input, list) {
    if (!input || !list) return;
    var options = [], active = -1, asked = 0;

    var lastToken = function () { return /[^\s,]*$/.exec(input.value)[0]; };
    var typedTags = function () {
      return input.value.split(/[\s,]+/).map(function (t) { return t.replace(/^#/, "").toLowerCase(); });
    };
    var hide = function () {
      options = []; active = -1; list.hidden = true; list.replaceChildren();
      input.setAttribute("aria-expanded", "false");
    };
    var show = function () {
      list.replaceChildren.apply(list, options.map(function (tag, n) {
        var option = document.createElement("li");
        option.setAttribute("role", "option");
        option.id = "tag-option-" + n;
        option.dataset.tag = tag;
        option.textContent = "#" + tag;
        option.setAttribute("aria-selected", n === active ? "true" : "false");
        option.addEventListener("mousedown", function (event) { event.preventDefault(); accept(tag); });
        return option;
      }));
      list.hidden = !options.length;
      if (options.length) list.scrollIntoView({block: "nearest"});  // open on screen, not below the fold
      input.setAttribute("aria-expanded", options.length ? "true" : "false");
      if (active >= 0) input.setAttribute("aria-activedescendant", "tag-option-" + active);
      else input.removeAttribute("aria-activedescendant");
    };
    var accept = function (tag) {
      var value = input.value;
      input.value = value.slice(0, value.length - lastToken().length) + "#" + tag + " ";
      hide();
      input.dispatchEvent(new Event("input", {bubbles: true}));
    };
    var suggest = function (event) {
      var fragment = lastToken().replace(/^#/, "");
      // With the item known, its learned tags (those of similar past items) open when the field
      // gets focus; after a tag is taken (an empty fragment while typing) the list stays closed.
      var learned = event && event.type === "focus" && input.dataset.item;
      if (!fragment && !learned) { ++asked; hide(); return; }
      var ticket = ++asked;
      // What is shown must match what is typed at once: Enter must never take a stale option.
      options = options.filter(function (tag) { return tag.indexOf(fragment) >= 0; });
      active = -1;
      show();
      var query = "/api/tags?q=" + encodeURIComponent(fragment) +
        (input.dataset.item ? "&item=" + encodeURIComponent(input.dataset.item) : "");
      fetch(query, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) { return response.ok ? response.json() : {tags: []}; })
        .then(function (data) {
          if (ticket !== asked) return;  // the curator typed on
          var present = typedTags().slice(0, -1);
          options = data.tags.filter(function (tag) { return present.indexOf(tag) < 0; });
          active = -1;
          show();
        }, hide);
    };

    input.addEventListener("input", suggest);
    input.addEventListener("focus", suggest);  // the learned tags, before anything is typed
    input.addEventListener("blur", function () { setTimeout(hide, 150); });
    input.addEventListener("keydown", function (event) {
      if (list.hidden || imeBusy(event)) return;  // Enter while composing only ends the syllable
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        active = (active + (event.key === "ArrowDown" ? 1 : -1) + options.length) % options.length;
        show();
      } else if (event.key === "Enter" || event.key === "Tab") {
        accept(options[Math.max(active, 0)]);
      } else if (event.key === "Escape") {
        hide();
      } else {
        return;
      }
      event.preventDefault();
      event.stopPropagation();
    });
  }
})();
