/* The phone's queue of submissions made without network (离线待发送), kept in IndexedDB.
 *
 * Used by the pages (offline.js) and by the service worker (sw.js, for Background Sync). Each
 * item is one form submission: the address it goes to, its fields (photos kept as blobs), the
 * signed-in user it belongs to and a key made on the phone (crypto.randomUUID). Sending sends
 * the key as the Idempotency-Key header: the server records a submission once however often the
 * same key arrives, so an item sent twice (a lost answer, two tabs, the worker and a page at
 * once) is still one record. An item the server refuses stays in the queue with the server's
 * message until the worker removes it; nothing is dropped without being seen. */
(function (scope) {
  "use strict";
  var DB = "jiedao-offline";
  var STORE = "queue";

  function open() {
    return new Promise(function (resolve, reject) {
      var request = scope.indexedDB.open(DB, 1);
      request.onupgradeneeded = function () {
        var store = request.result.createObjectStore(STORE, { keyPath: "key" });
        store.createIndex("created", "created");
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function run(mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var result = work(tx.objectStore(STORE));
        tx.oncomplete = function () { db.close(); resolve(result && "result" in result ? result.result : result); };
        tx.onerror = function () { db.close(); reject(tx.error); };
        tx.onabort = function () { db.close(); reject(tx.error); };
      });
    });
  }

  function newKey() {
    if (scope.crypto && scope.crypto.randomUUID) { return scope.crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    scope.crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  /* A form's fields as storable pairs: text as text, files as blobs with their names. */
  function fieldsOf(formData) {
    var fields = [];
    formData.forEach(function (value, name) {
      if (name === "csrfmiddlewaretoken") { return; }
      if (typeof value === "string") { fields.push({ name: name, value: value }); }
      else if (value && value.size) { fields.push({ name: name, blob: value, filename: value.name || "photo.jpg" }); }
    });
    return fields;
  }

  function add(item) {
    item.key = item.key || newKey();
    item.created = item.created || Date.now();
    item.state = "waiting";
    item.message = "";
    return run("readwrite", function (store) { store.put(item); }).then(function () { return item; });
  }

  function all() {
    return run("readonly", function (store) { return store.index("created").getAll(); });
  }

  function put(item) { return run("readwrite", function (store) { store.put(item); }); }

  function remove(key) { return run("readwrite", function (store) { store["delete"](key); }); }

  function body(item, token) {
    var data = new FormData();
    item.fields.forEach(function (field) {
      if (field.blob) { data.append(field.name, field.blob, field.filename); }
      else { data.append(field.name, field.value); }
    });
    data.append("csrfmiddlewaretoken", token);
    data.append("idempotency_key", item.key);
    return data;
  }

  /* Send one item. Answers {state: "sent" | "refused" | "waiting", message}. */
  function send(item, token) {
    return scope.fetch(item.url, {
      method: "POST",
      body: body(item, token),
      credentials: "same-origin",
      headers: { "Idempotency-Key": item.key, "X-Offline-Queue": "1", "X-CSRFToken": token },
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") === -1) {
        // The sign-in page (the session ended) or a server in trouble: try again later.
        var signIn = response.redirected && response.url.indexOf("/login/") !== -1;
        return { state: "waiting", problem: signIn ? "signin" : "server" };
      }
      return response.json().then(function (answer) {
        return { state: answer.ok ? "sent" : "refused", message: answer.message || "" };
      });
    }, function () {
      return { state: "waiting", problem: "network" };
    });
  }

  var flushing = null;

  /* Send every waiting item of ``user`` in the order they were made; stop at the first one that
   * cannot reach the server. ``report(item, outcome)`` is told each outcome. */
  function flush(user, token, report) {
    if (flushing) { return flushing; }
    flushing = all().then(function (items) {
      var mine = items.filter(function (item) { return item.user === user && item.state !== "refused"; });
      var chain = Promise.resolve(true);
      mine.forEach(function (item) {
        chain = chain.then(function (goOn) {
          if (!goOn) { return false; }
          return send(item, token).then(function (outcome) {
            var saved;
            if (outcome.state === "sent") { saved = remove(item.key); }
            else if (outcome.state === "refused") {
              item.state = "refused";
              item.message = outcome.message;
              saved = put(item);
            } else { saved = Promise.resolve(); }
            return saved.then(function () {
              if (report) { report(item, outcome); }
              return outcome.state !== "waiting";
            });
          });
        });
      });
      return chain;
    }).then(function (result) { flushing = null; return result; }, function (error) { flushing = null; throw error; });
    return flushing;
  }

  scope.JiedaoQueue = { add: add, all: all, remove: remove, flush: flush, fieldsOf: fieldsOf, newKey: newKey, send: send };
})(typeof self !== "undefined" ? self : window);
