{% autoescape off %}// Gichul's service worker (docs/offline.md). Rendered by study.views.offline
// so that it knows the static files' URLs and the shell's version.
"use strict";
const CONFIG = {{ config_json }};
const SHELL_CACHE = "gichul-shell-" + CONFIG.version;
const FIGURE_PATTERN = new RegExp(CONFIG.figurePattern);

// The app shell: static files and the offline page, fetched afresh.
self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(SHELL_CACHE).then(function (cache) {
      const requests = CONFIG.precache.concat([CONFIG.offlineUrl]).map(function (url) {
        return new Request(url, { cache: "reload", credentials: "same-origin" });
      });
      return cache.addAll(requests);
    }).then(function () { return self.skipWaiting(); })
  );
});

// A new version replaces the old shell; downloaded figures stay.
self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.startsWith("gichul-shell-") && name !== SHELL_CACHE;
      }).map(function (name) { return caches.delete(name); }));
    }).then(function () { return self.clients.claim(); })
  );
});

// The page asks for a fresh copy of the offline page (it names who is signed in).
self.addEventListener("message", function (event) {
  if (event.data && event.data.type === "refresh-offline-page") {
    event.waitUntil(
      caches.open(SHELL_CACHE).then(function (cache) {
        return cache.add(new Request(CONFIG.offlineUrl, { cache: "reload", credentials: "same-origin" }));
      }).catch(function () { /* offline: keep the copy we have */ })
    );
  }
});

// Pages vary by cookie and language; a cached static file or figure does not.
function fromCacheThenNetwork(request, cacheName) {
  return caches.open(cacheName).then(function (cache) {
    return cache.match(request, { ignoreVary: true }).then(function (hit) {
      return hit || fetch(request);
    });
  });
}

function networkThenCache(request) {
  return fetch(request).then(function (response) {
    if (response.ok) {
      const copy = response.clone();
      caches.open(SHELL_CACHE).then(function (cache) { cache.put(request, copy); });
    }
    return response;
  }).catch(function () {
    return caches.match(request, { ignoreVary: true }).then(function (hit) {
      return hit || Response.error();
    });
  });
}

// Pages: the network, and without it the offline page (which draws the
// downloaded session the address names). Only GET is ever answered here:
// answers and every other change go to the server, or wait in IndexedDB.
self.addEventListener("fetch", function (event) {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(function () {
      return caches.open(SHELL_CACHE).then(function (cache) {
        return cache.match(CONFIG.offlineUrl, { ignoreVary: true });
      }).then(function (page) { return page || Response.error(); });
    }));
    return;
  }
  if (url.pathname.startsWith(CONFIG.staticPrefix)) {
    event.respondWith(fromCacheThenNetwork(request, SHELL_CACHE));
    return;
  }
  if (FIGURE_PATTERN.test(url.pathname)) {
    event.respondWith(fromCacheThenNetwork(request, CONFIG.figureCache));
    return;
  }
  if (url.pathname.startsWith("/jsi18n/")) {
    event.respondWith(networkThenCache(request));
  }
});
{% endautoescape %}
