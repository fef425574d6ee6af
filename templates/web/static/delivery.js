// The composer's delivery counts: while a send runs, ask /api/issue/delivery every moment and
// update the numbers in place. Without this script the page reloads itself (a <noscript> refresh).
(function () {
  "use strict";

  var box = document.getElementById("delivery");
  if (!box || box.dataset.running !== "true") return;
  var url = "/api/issue/delivery?date=" + encodeURIComponent(box.dataset.date);
  var stateLine = document.getElementById("delivery-state");
  var words = {};
  try { words = JSON.parse(stateLine.dataset.words || "{}"); } catch (e) { words = {}; }
  var ISSUE_STATES = {"draft": "초안", "ready": "발송 준비됨", "sending": "발송 중", "sent": "발송됨"};

  function setNumber(id, value) {
    var element = document.getElementById(id);
    if (!element) return;
    element.textContent = value;
    element.dataset.n = value;
  }

  function show(data) {
    setNumber("delivery-sent", data.sent);
    setNumber("delivery-failed", data.failed);
    setNumber("delivery-pending", data.pending);
    setNumber("delivery-total", data.total);
    box.dataset.state = data.state;
    box.dataset.running = data.running ? "true" : "false";
    stateLine.textContent = (words[data.state] || "") + (data.error ? ": " + data.error : "");
    var status = document.getElementById("issue-status");
    if (status && ISSUE_STATES[data.status]) {
      status.textContent = ISSUE_STATES[data.status];
      status.dataset.status = data.status;
    }
    var list = document.getElementById("delivery-failures");
    if (list) {
      list.textContent = "";
      data.failures.forEach(function (failure) {
        var item = document.createElement("li");
        item.className = "error";
        item.textContent = failure.email + ": " + failure.reply;
        list.appendChild(item);
      });
      list.hidden = data.failures.length === 0;
    }
  }

  function tick() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { setTimeout(tick, 3000); return; }
        show(data);
        if (data.running) setTimeout(tick, 1000);
      })
      .catch(function () { setTimeout(tick, 3000); });
  }

  setTimeout(tick, 500);
})();
