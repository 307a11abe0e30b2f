/* 街道通 on the page: registers the service worker, keeps a form submitted without network in
 * the phone's queue (queue.js) and sends the queue when the network returns (the "online"
 * event, every page load, and Background Sync where the browser has it). A form takes part
 * when it is marked ``data-offline`` (its ``data-offline-label`` names it in the list). The
 * texts come translated from the page (web/_app.html). */
(function () {
  "use strict";
  var app = document.querySelector("[data-offline-app]");
  var queue = window.JiedaoQueue;
  if (!app || !queue || !window.indexedDB) { return; }
  var user = app.dataset.offlineUser;
  var text = function (name) { return app.dataset["msg" + name] || ""; };
  var results = [];  // what was sent or refused while this page is open, newest last
  var problem = "";  // why the last sending stopped: "signin" or "server"

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(app.dataset.sw, { scope: "/" }).catch(function () {});
    navigator.serviceWorker.ready.then(function (registration) {
      var paths = (app.dataset.pages || "").split(" ").filter(Boolean);
      if (registration.active && paths.length) { registration.active.postMessage({ type: "jiedao-keep", paths: paths }); }
    });
    navigator.serviceWorker.addEventListener("message", function (event) {
      if (!event.data || event.data.type !== "jiedao-queue") { return; }
      (event.data.results || []).forEach(function (done) {
        note(done, done.state, text(done.state === "sent" ? "Sent" : "Refused") + done.message);
      });
      show();
    });
  }

  /* One line per item and outcome: an item sent twice (by this page and the service worker) is
   * shown once. */
  function note(item, state, message) {
    results = results.filter(function (done) { return done.item.key !== item.key; });
    results.push({ item: item, state: state, message: message });
  }

  function token() {
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  /* A fresh token from the server (a page saved on the phone may carry an old one). */
  function freshToken() {
    return fetch(window.location.pathname, { credentials: "same-origin" }).then(function (response) {
      return response.ok && !response.redirected ? response.text() : "";
    }).then(function (html) {
      var found = /name="csrfmiddlewaretoken" value="([^"]+)"/.exec(html);
      return found ? found[1] : token();
    }, function () { return token(); });
  }

  function panel() {
    var box = document.querySelector("[data-offline-queue]");
    if (box) { return box; }
    box = document.createElement("section");
    box.className = "card offline-queue";
    box.setAttribute("data-offline-queue", "");
    box.setAttribute("aria-live", "polite");
    var title = document.createElement("h2");
    title.textContent = text("Title");
    var summary = document.createElement("p");
    summary.className = "offline-summary";
    summary.setAttribute("data-offline-summary", "");
    var list = document.createElement("ul");
    list.className = "offline-items";
    box.append(title, summary, list);
    var main = document.querySelector("main") || document.body;
    var messages = main.querySelector(".messages");
    main.insertBefore(box, messages ? messages.nextSibling : main.firstChild);
    return box;
  }

  function clock(ms) {
    var at = new Date(ms);
    return String(at.getHours()).padStart(2, "0") + ":" + String(at.getMinutes()).padStart(2, "0");
  }

  function row(item, state, message) {
    var li = document.createElement("li");
    li.className = "offline-item offline-" + state;
    li.dataset.offlineItem = state;
    li.dataset.key = item.key;
    var label = document.createElement("strong");
    label.textContent = item.label;
    var when = document.createElement("span");
    when.className = "hint";
    when.textContent = " · " + text("SavedAt") + " " + clock(item.created) + " ";
    var status = document.createElement("span");
    status.className = "offline-status";
    status.textContent = message;
    li.append(label, when, status);
    if (state === "refused") {
      var hint = document.createElement("p");
      hint.className = "hint";
      hint.textContent = text("RefusedHint");
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "btn btn-secondary";
      remove.textContent = text("Remove");
      remove.addEventListener("click", function () { queue.remove(item.key).then(show); });
      li.append(hint, remove);
    }
    return li;
  }

  /* The list: this user's waiting and refused items, and what this page sent. */
  function show(headline) {
    return queue.all().then(function (items) {
      var mine = items.filter(function (item) { return item.user === user; });
      var waiting = mine.filter(function (item) { return item.state !== "refused"; });
      if (!mine.length && !results.length && !headline) {
        var old = document.querySelector("[data-offline-queue]");
        if (old) { old.remove(); }
        return;
      }
      var box = panel();
      box.hidden = false;
      var summary = box.querySelector("[data-offline-summary]");
      var count = String(waiting.length);
      var lines = headline ? [headline.replace("{n}", count)] : [];
      if (waiting.length && (!headline || headline.indexOf("{n}") === -1)) { lines.push(text("Waiting").replace("{n}", count)); }
      summary.textContent = lines.join(" ");
      summary.hidden = !summary.textContent;
      var list = box.querySelector("ul");
      list.replaceChildren();
      results.forEach(function (done) { list.append(row(done.item, done.state, done.message)); });
      mine.forEach(function (item) {
        if (item.state === "refused") {
          if (!results.some(function (done) { return done.item.key === item.key; })) {
            list.append(row(item, "refused", text("Refused") + item.message));
          }
        } else {
          list.append(row(item, "waiting", problem ? text(problem === "signin" ? "Signin" : "Server") : text("QueuedHere")));
        }
      });
    });
  }

  function send() {
    if (!navigator.onLine) { return Promise.resolve(); }
    return queue.all().then(function (items) {
      if (!items.some(function (item) { return item.user === user && item.state === "waiting"; })) { return; }
      return freshToken().then(function (fresh) {
        problem = "";
        return queue.flush(user, fresh, function (item, outcome) {
          if (outcome.state === "sent") {
            note(item, "sent", text("Sent") + outcome.message);
          } else if (outcome.state === "refused") {
            note(item, "refused", text("Refused") + outcome.message);
          } else if (outcome.problem !== "network") {
            problem = outcome.problem;
          }
        });
      }).then(function () { return show(); });
    }).catch(function () {});
  }

  function label(form, submitter) {
    var parts = [form.dataset.offlineLabel || document.title];
    if (submitter && submitter.textContent.trim()) { parts.push(submitter.textContent.trim()); }
    return parts.join(" · ");
  }

  /* A submission without network: into the queue instead of onto the (unreachable) server. */
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (navigator.onLine || !form.matches || !form.matches("form[data-offline]")) { return; }
    event.preventDefault();
    var submitter = event.submitter || null;
    var data = new FormData(form, submitter);
    if (form.elements.taken_at) { data.set("taken_at", new Date().toISOString()); }
    var url = submitter && submitter.hasAttribute("formaction") ? submitter.formAction : form.action;
    queue.add({ user: user, url: url, label: label(form, submitter), fields: queue.fieldsOf(data) }).then(function () {
      form.reset();
      form.dispatchEvent(new CustomEvent("offline:queued", { bubbles: true, detail: { submitter: submitter } }));
      if ("serviceWorker" in navigator && window.SyncManager) {
        navigator.serviceWorker.ready.then(function (registration) {
          return registration.sync.register("jiedao-queue");
        }).catch(function () {});
      }
      return show(text("Saved"));
    });
  });

  /* 巡查打卡 offline: after a start the next buttons are 途中打卡 and 结束巡查, and back after an end. */
  document.addEventListener("offline:queued", function (event) {
    var submitter = event.detail.submitter;
    var form = event.target;
    var kind = submitter && submitter.name === "kind" ? submitter.value : "";
    if (kind === "start" || kind === "end") {
      form.querySelectorAll("button[name=kind]").forEach(function (button) {
        button.hidden = kind === "start" ? button.value === "start" : button.value !== "start";
      });
    }
    var article = form.closest("[data-case]");
    if (article && form.matches(".verify-form")) {
      form.hidden = true;
      var note = document.createElement("p");
      note.className = "hint";
      note.setAttribute("data-offline-queued", "");
      note.textContent = text("QueuedHere");
      article.append(note);
    }
  });

  window.addEventListener("online", function () { send(); });
  window.addEventListener("offline", function () { show(text("Offline")); });
  show(navigator.onLine ? "" : text("Offline")).then(send);
})();
