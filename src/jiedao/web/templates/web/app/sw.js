/* 街道通, the staff phone app: the service worker (served at /sw.js, the whole site its scope).
 * - The app shell (style sheets, scripts, icons) is kept on the phone and refreshed in the
 *   background; the pages of the grid worker and the handler's case list are fetched from the
 *   network first and, without network, opened from the copy saved at their last visit.
 * - Background Sync ("jiedao-queue"): where the browser offers it, the queue of submissions made
 *   offline (queue.js) is sent even when no page of the site is open. */
"use strict";
importScripts("{{ queue_script|escapejs }}");

var VERSION = "{{ version|escapejs }}";
var SHELL = "jiedao-shell-" + VERSION;
var PAGES = "jiedao-pages";
var SHELL_FILES = [{% for url in shell_files %}"{{ url|escapejs }}"{% if not forloop.last %}, {% endif %}{% endfor %}];
var PAGE_PATHS = [{% for url in pages %}"{{ url|escapejs }}"{% if not forloop.last %}, {% endif %}{% endfor %}];
var TOKEN_PAGE = "{{ token_page|escapejs }}";
var OFFLINE_PAGE = "<!doctype html><html lang=\"zh-Hans\"><head><meta charset=\"utf-8\">" +
  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">" +
  "<title>{{ offline_title|escapejs }}</title><link rel=\"stylesheet\" href=\"{{ stylesheet|escapejs }}\"></head>" +
  "<body><main class=\"page\"><section class=\"card\" data-offline-page><h1>{{ offline_title|escapejs }}</h1>" +
  "<p>{{ offline_text|escapejs }}</p><ul>" +
  {% for link in links %}"<li><a href=\"{{ link.url|escapejs }}\">{{ link.label|escapejs }}</a></li>" +
  {% endfor %}"</ul></section></main></body></html>";

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(SHELL).then(function (cache) {
    return cache.addAll(SHELL_FILES);
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("jiedao-shell-") === 0 && name !== SHELL;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

function keepPage(path) {
  return function (response) {
    if (response.ok && !response.redirected && response.type === "basic") {
      var copy = response.clone();
      caches.open(PAGES).then(function (cache) { return cache.put(path, copy); });
    }
    return response;
  };
}

function offlinePage() {
  return new Response(OFFLINE_PAGE, { headers: { "Content-Type": "text/html; charset=utf-8" } });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.mode === "navigate") {
    var kept = PAGE_PATHS.indexOf(url.pathname) !== -1;
    event.respondWith(fetch(request).then(kept ? keepPage(url.pathname) : function (r) { return r; }, function () {
      return caches.open(PAGES).then(function (cache) { return cache.match(url.pathname); }).then(function (page) {
        return page || offlinePage();
      });
    }));
    return;
  }
  if (SHELL_FILES.indexOf(url.pathname) !== -1) {
    // The copy on the phone at once, refreshed from the network for the next time.
    event.respondWith(caches.open(SHELL).then(function (cache) {
      return cache.match(url.pathname).then(function (copy) {
        var fresh = fetch(request).then(function (response) {
          if (response.ok) { cache.put(url.pathname, response.clone()); }
          return response;
        });
        if (copy) { fresh.catch(function () {}); return copy; }
        return fresh;
      });
    }));
  }
});

/* A page of the site tells who is signed in and gives a fresh CSRF token. */
function signedIn() {
  return fetch(TOKEN_PAGE, { credentials: "same-origin" }).then(function (response) {
    if (!response.ok || response.redirected) { throw new Error("signed out"); }
    return response.text();
  }).then(function (html) {
    var token = /name="csrfmiddlewaretoken" value="([^"]+)"/.exec(html);
    var user = /data-offline-user="([^"]+)"/.exec(html);
    if (!token || !user) { throw new Error("signed out"); }
    return { token: token[1], user: user[1] };
  });
}

/* The open pages show what was sent or refused. */
function tellPages(results) {
  return self.clients.matchAll({ type: "window" }).then(function (pages) {
    pages.forEach(function (page) { page.postMessage({ type: "jiedao-queue", results: results }); });
  });
}

self.addEventListener("sync", function (event) {
  if (event.tag !== "jiedao-queue") { return; }
  var results = [];
  event.waitUntil(signedIn().then(function (who) {
    return self.JiedaoQueue.flush(who.user, who.token, function (item, outcome) {
      if (outcome.state !== "waiting") {
        results.push({ key: item.key, label: item.label, created: item.created, state: outcome.state, message: outcome.message });
      }
    });
  }).then(function (done) {
    return tellPages(results).then(function () {
      if (done === false) { throw new Error("not sent yet"); }  // the browser tries again later
    });
  }));
});

self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type === "jiedao-signed-out") {
    event.waitUntil(caches.delete(PAGES));
  }
  // A page names the app's pages its user may open: those not on the phone yet are fetched now,
  // so that they open offline even before their first visit.
  if (data.type === "jiedao-keep" && Array.isArray(data.paths)) {
    event.waitUntil(caches.open(PAGES).then(function (cache) {
      return Promise.all(data.paths.filter(function (path) {
        return PAGE_PATHS.indexOf(path) !== -1;
      }).map(function (path) {
        return cache.match(path).then(function (kept) {
          return kept || fetch(path, { credentials: "same-origin" }).then(keepPage(path), function () {});
        });
      }));
    }));
  }
});
