// Offline study (docs/offline.md): the service worker, the sessions stored on
// the device (IndexedDB, questions without keys), answers that wait there with
// an idempotency key each, and their sync in slot order when the connection
// returns. The server grades on arrival; nothing here knows a key.
(function () {
  "use strict";
  if (!window.indexedDB || !window.fetch || !window.Promise) return;

  const DB_NAME = "gichul-offline";
  const FIGURE_CACHE = "gichul-figures";
  const BATCH = 10; // answers per sync request
  const RETRY_MAX_MS = 30000;
  const body = document.body;
  const userId = body.dataset.userId ? Number(body.dataset.userId) : null;
  const channel = window.BroadcastChannel ? new BroadcastChannel("gichul-offline") : null;
  // The browser's online flag and event are not always right: Chromium 156
  // reports a page its service worker served while offline as online, and
  // sends no event when the connection returns. So a send that found no
  // network is tried again every NETWORK_RETRY_MS (it costs the server
  // nothing), and while the flag says offline it is looked at that often.
  const NETWORK_RETRY_MS = 2000;
  const state = { syncing: false, needLogin: false, failed: false, leaving: false, notices: [], retryMs: 1000, timer: null, onlineWatch: null };
  let dbPromise = null;

  // --- IndexedDB: sessions (id) and answers (key; one per session slot) ------

  function openDb() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        const open = indexedDB.open(DB_NAME, 1);
        open.onupgradeneeded = function () {
          const db = open.result;
          db.createObjectStore("sessions", { keyPath: "id" });
          const answers = db.createObjectStore("answers", { keyPath: "key" });
          answers.createIndex("by_slot", ["session_id", "position"], { unique: true });
          answers.createIndex("by_session", "session_id");
        };
        open.onsuccess = function () { resolve(open.result); };
        open.onerror = function () { reject(open.error); };
      });
    }
    return dbPromise;
  }

  function run(stores, mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        const tx = db.transaction(stores, mode);
        let result;
        work(tx, function (value) { result = value; });
        tx.oncomplete = function () { resolve(result); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error); };
      });
    });
  }

  function getAll(store, index, query) {
    return run([store], "readonly", function (tx, done) {
      const source = index ? tx.objectStore(store).index(index) : tx.objectStore(store);
      source.getAll(query).onsuccess = function (event) { done(event.target.result); };
    });
  }

  function getSession(id) {
    return run(["sessions"], "readonly", function (tx, done) {
      tx.objectStore("sessions").get(id).onsuccess = function (event) { done(event.target.result); };
    });
  }

  function mine(record) { return record && record.user_id === userId; }

  function pendingAnswers() {
    return getAll("answers").then(function (rows) {
      return rows.filter(mine).sort(function (a, b) {
        return a.session_id - b.session_id || a.position - b.position;
      });
    });
  }

  function sessionAnswers(sessionId) {
    return getAll("answers", "by_session", sessionId).then(function (rows) {
      return rows.filter(mine).sort(function (a, b) { return a.position - b.position; });
    });
  }

  // The next slot this device has not answered: after the server's count and
  // after every answer waiting here.
  function nextPosition(stored, waiting) {
    const last = waiting.length ? waiting[waiting.length - 1].position + 1 : 0;
    return Math.max(stored.session.answered_count, last);
  }

  // One answer per slot, even with two tabs answering at once (unique index).
  function enqueue(answer) {
    return run(["answers"], "readwrite", function (tx, done) {
      const put = tx.objectStore("answers").add(answer);
      put.onsuccess = function () { done(true); };
      put.onerror = function (event) { event.preventDefault(); done(false); };
    }).then(function (added) {
      if (channel) channel.postMessage({ type: "queued", session_id: answer.session_id });
      return added;
    });
  }

  function forget(keys, sessionPatch) {
    return run(["answers", "sessions"], "readwrite", function (tx) {
      keys.forEach(function (key) { tx.objectStore("answers").delete(key); });
      if (!sessionPatch) return;
      const sessions = tx.objectStore("sessions");
      sessions.get(sessionPatch.id).onsuccess = function (event) {
        const stored = event.target.result;
        if (!stored) return;
        if (sessionPatch.drop) { sessions.delete(stored.id); return; }
        stored.session.answered_count = Math.max(stored.session.answered_count, sessionPatch.answered_count);
        stored.session.status = sessionPatch.status;
        sessions.put(stored);
      };
    });
  }

  function dropSession(id) {
    return getSession(id).then(function (stored) {
      if (!stored) return;
      return run(["sessions"], "readwrite", function (tx) { tx.objectStore("sessions").delete(id); })
        .then(function () { return dropFigures(stored); });
    });
  }

  function dropFigures(stored) {
    if (!window.caches) return;
    return caches.open(FIGURE_CACHE).then(function (cache) {
      return Promise.all(stored.questions.filter(function (q) { return q.figure_url; })
        .map(function (q) { return cache.delete(q.figure_url); }));
    });
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, function (b) { return b.toString(16).padStart(2, "0"); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  // --- What waits: the status line every page shows ---------------------------

  const statusLine = document.getElementById("offline-status");

  function updateStatus() {
    if (!statusLine || userId === null) return Promise.resolve();
    return pendingAnswers().then(function (rows) {
      const n = rows.length;
      const values = { n: n };
      let text = "";
      if (!navigator.onLine) {
        text = n
          ? interpolate(ngettext("오프라인입니다. 답 %(n)s개가 이 기기에서 보내기를 기다립니다.", "오프라인입니다. 답 %(n)s개가 이 기기에서 보내기를 기다립니다.", n), values, true)
          : gettext("오프라인입니다. 이 기기에 내려받은 풀이는 계속 풀 수 있습니다.");
      } else if (n && state.needLogin) {
        text = interpolate(ngettext("다시 로그인하면 기다리는 답 %(n)s개를 보냅니다.", "다시 로그인하면 기다리는 답 %(n)s개를 보냅니다.", n), values, true);
      } else if (n && state.syncing) {
        text = interpolate(ngettext("기다리던 답 %(n)s개를 보내는 중입니다…", "기다리던 답 %(n)s개를 보내는 중입니다…", n), values, true);
      } else if (n) {
        text = interpolate(ngettext("답 %(n)s개가 아직 보내기를 기다립니다. 곧 다시 보냅니다.", "답 %(n)s개가 아직 보내기를 기다립니다. 곧 다시 보냅니다.", n), values, true);
      }
      const notices = state.notices.join(" ");
      statusLine.textContent = [text, notices].filter(Boolean).join(" ");
      statusLine.hidden = !statusLine.textContent;
      statusLine.dataset.pending = String(n);
      statusLine.classList.toggle("offline", !navigator.onLine);
    });
  }

  // --- Sync: every waiting answer of this learner, session by session ---------

  // A server that answered with an error is asked again less and less often;
  // a network that did not answer is tried again soon, every time.
  function scheduleRetry(noNetwork) {
    clearTimeout(state.timer);
    if (noNetwork) {
      state.timer = setTimeout(sync, NETWORK_RETRY_MS);
      return;
    }
    state.timer = setTimeout(sync, state.retryMs);
    state.retryMs = Math.min(RETRY_MAX_MS, state.retryMs * 2);
  }

  function sync() {
    if (!navigator.onLine) watchForOnline();
    if (!navigator.onLine || userId === null || state.syncing) return Promise.resolve();
    if (navigator.locks) {
      // One tab sends at a time; the others hear the result on the channel.
      return navigator.locks.request("gichul-sync", { ifAvailable: true }, function (lock) {
        return lock ? syncAll() : null;
      });
    }
    return syncAll();
  }

  function syncAll() {
    return pendingAnswers().then(function (rows) {
      if (!rows.length) return updateStatus();
      state.notices = [];
      state.syncing = true;
      updateStatus();
      const bySession = [];
      rows.forEach(function (row) {
        const last = bySession[bySession.length - 1];
        if (last && last[0].session_id === row.session_id) last.push(row);
        else bySession.push([row]);
      });
      return bySession.reduce(function (chain, answers) {
        return chain.then(function () { return syncSession(answers); });
      }, Promise.resolve()).then(function () {
        state.failed = false;
        state.retryMs = 1000;
      });
    }).catch(function (error) {
      state.failed = true;
      if (!(error && error.login)) scheduleRetry(Boolean(error && error.noNetwork));
    }).finally(function () {
      state.syncing = false;
      updateStatus();
    });
  }

  function syncSession(answers) {
    const batches = [];
    for (let i = 0; i < answers.length; i += BATCH) batches.push(answers.slice(i, i + BATCH));
    let last = null;
    return batches.reduce(function (chain, batch) {
      return chain.then(function () {
        return sendBatch(batch).then(function (report) { last = report; });
      });
    }, Promise.resolve()).then(function () {
      const done = { type: "synced", session_id: answers[0].session_id, status: last.session_status,
        quiz_url: answers[0].quiz_url, results_url: answers[0].results_url };
      if (channel) channel.postMessage(done);
      return afterSessionSynced(done);
    });
  }

  function sendBatch(batch) {
    const payload = batch.map(function (a) {
      return { key: a.key, position: a.position, question_id: a.question_id, choice: a.choice,
        elapsed_ms: a.elapsed_ms, given_at: a.given_at, key_version: a.key_version };
    });
    return fetch(batch[0].sync_url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), "Accept": "application/json" },
      body: JSON.stringify({ answers: payload }),
    }).catch(function () {
      throw { noNetwork: true }; // the request did not reach the server
    }).then(function (response) {
      if (response.status === 401 || response.status === 403) {
        state.needLogin = true;
        throw { login: true };
      }
      state.needLogin = false;
      if (response.status === 400 || response.status === 409) {
        // The server will never take these (unreadable, or a mock): say so, drop them.
        return response.json().then(function (data) {
          state.notices.push(data.error);
          return forget(batch.map(function (a) { return a.key; }), null)
            .then(function () { return { session_status: "active", answered_count: 0, answers: [] }; });
        });
      }
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json().then(function (report) { return applyReport(batch[0].session_id, report); });
    });
  }

  function applyReport(sessionId, report) {
    const finals = report.answers.filter(function (a) { return a.final; }).map(function (a) { return a.key; });
    state.notices = state.notices.concat(report.notices || []);
    const gone = report.session_status === "gone";
    const patch = { id: sessionId, drop: gone, answered_count: report.answered_count, status: report.session_status };
    return forget(finals, patch).then(function () {
      return gone ? dropSession(sessionId) : null;
    }).then(function () { return report; });
  }

  // The page of a session that just synced follows the server: its results,
  // or its next question (the server's page, online again).
  function afterSessionSynced(done) {
    if (shownSessionId() !== done.session_id) return updateStatus();
    return sessionAnswers(done.session_id).then(function (left) {
      if (left.length) return;
      if (done.status !== "gone") state.leaving = true;
      if (done.status === "active") window.location.assign(done.quiz_url);
      else if (done.status !== "gone") window.location.assign(done.results_url);
      else {
        const card = document.getElementById("quiz-card");
        if (card) card.remove();
        const container = root || offlineApp();
        container.hidden = false;
        offlineSession = null;
        return renderSessionList(container).then(updateStatus);
      }
    });
  }

  // --- The quiz card, drawn from the device --------------------------------

  const quizPath = /^\/quiz\/(\d+)\/$/;
  const resultsPath = /^\/quiz\/(\d+)\/results$/;
  let shownAt = performance.now();
  let offlineSession = null; // id of the session this page answers offline

  function shownSessionId() {
    const match = window.location.pathname.match(quizPath);
    return match ? Number(match[1]) : null;
  }

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") node.textContent = attrs[name];
      else node.setAttribute(name, attrs[name]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function cardFor(stored, position, waiting) {
    const session = stored.session;
    const question = stored.questions.find(function (q) { return q.position === position; });
    const head = el("div", { class: "quiz-progress" }, [
      el("span", {}, [el("strong", { text: String(Math.min(position + 1, session.size)) }), document.createTextNode(" / " + session.size)]),
      el("span", { class: "muted", text: session.mode }),
    ]);
    const progress = el("progress", { max: String(session.size), value: String(position), "aria-label": gettext("진행률") });
    const note = el("p", { class: "offline-note", text: interpolate(ngettext(
      "연결 없이 푸는 중 · 보낼 답 %(n)s개", "연결 없이 푸는 중 · 보낼 답 %(n)s개", waiting), { n: waiting }, true) });
    if (!question) {
      return el("section", { id: "quiz-card", class: "card quiz-card", "aria-live": "polite", "data-offline-card": "done" }, [
        head, progress, note,
        el("h1", { class: "stem quiz-stem", tabindex: "-1", text: gettext("모든 문제에 답했습니다.") }),
        el("p", { text: gettext("연결되면 답을 순서대로 보내고 결과를 보여 줍니다.") }),
      ]);
    }
    const badges = el("div", { class: "meta" }, [
      question.round ? el("span", { class: "badge", text: question.round }) : null,
      question.subject ? el("span", { class: "badge", text: question.subject }) : null,
    ]);
    const stemId = "stem-" + question.id;
    const buttons = question.choices.map(function (choice, index) {
      return el("button", { type: "button", class: "answer", "data-key": String(index + 1) }, [
        el("span", { class: "key", "aria-hidden": "true", text: String(index + 1) }),
        el("span", { class: "answer-text", text: choice }),
      ]);
    });
    buttons.push(el("button", { type: "button", class: "answer unsure", "data-key": "5" }, [
      el("span", { class: "key", "aria-hidden": "true", text: "5" }),
      el("span", { class: "answer-text", text: gettext("모르겠음") }),
    ]));
    const form = el("form", { class: "answers", "aria-labelledby": stemId }, [
      el("input", { type: "hidden", name: "position", value: String(position) }),
      el("input", { type: "hidden", name: "question_id", value: String(question.id) }),
    ].concat(buttons));
    const figure = question.figure_url
      ? el("p", { class: "figure" }, [el("img", { src: question.figure_url, alt: gettext("문제 그림") })])
      : null;
    return el("section", { id: "quiz-card", class: "card quiz-card", "aria-live": "polite",
      "data-question-card": "", "data-offline-card": "question" }, [
      head, progress, note, badges,
      el("h1", { class: "stem quiz-stem", id: stemId, tabindex: "-1", text: question.stem }),
      figure, form,
      el("p", { class: "muted key-hint", text: gettext("키보드 1~5로도 답할 수 있습니다.") }),
    ]);
  }

  function showCard(sessionId, focus) {
    return Promise.all([getSession(sessionId), sessionAnswers(sessionId)]).then(function (found) {
      const stored = found[0];
      if (!mine(stored)) return false;
      const waiting = found[1];
      const card = cardFor(stored, nextPosition(stored, waiting), waiting.length);
      const old = document.getElementById("quiz-card");
      if (old) old.replaceWith(card);
      else (document.getElementById("offline-quiz-root") || offlineApp()).replaceChildren(card);
      offlineSession = sessionId;
      shownAt = performance.now();
      if (window.renderMathInElement) {
        window.renderMathInElement(card, { delimiters: [{ left: "$$", right: "$$", display: true },
          { left: "$", right: "$", display: false }], throwOnError: false });
      }
      const stem = card.querySelector(".quiz-stem");
      if (stem && focus) stem.focus();
      return true;
    });
  }

  function answerOffline(params) {
    return getSession(offlineSession).then(function (stored) {
      const question = stored.questions.find(function (q) { return q.position === params.position; });
      if (!question || question.id !== params.question_id) return false;
      return enqueue({
        key: params.key || uuid(),
        user_id: userId,
        session_id: stored.id,
        position: params.position,
        question_id: params.question_id,
        choice: params.choice,
        elapsed_ms: params.elapsed_ms,
        given_at: new Date().toISOString(),
        key_version: question.key_version,
        sync_url: stored.session.sync_url,
        quiz_url: stored.session.quiz_url,
        results_url: stored.session.results_url,
      });
    }).then(function () {
      return showCard(offlineSession, true);
    }).then(updateStatus).then(function () {
      if (navigator.onLine) sync(); // the connection came back while answering
    });
  }

  document.addEventListener("click", function (event) {
    const button = event.target.closest && event.target.closest("[data-offline-card=question] .answer");
    if (!button || button.disabled) return;
    const form = button.closest("form");
    form.querySelectorAll(".answer").forEach(function (b) { b.disabled = true; });
    answerOffline({
      position: Number(form.querySelector("[name=position]").value),
      question_id: Number(form.querySelector("[name=question_id]").value),
      choice: Number(button.dataset.key),
      elapsed_ms: Math.round(performance.now() - shownAt),
    });
  });

  // --- The online quiz page: download, and fall back to the device -----------

  const root = document.getElementById("offline-quiz-root");

  function download() {
    return fetch(root.dataset.bundleUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (bundle) {
        if (!bundle) return;
        const stored = { id: bundle.session.id, user_id: bundle.session.user_id, session: bundle.session,
          questions: bundle.questions, downloaded_at: new Date().toISOString() };
        return run(["sessions"], "readwrite", function (tx) { tx.objectStore("sessions").put(stored); })
          .then(function () { return cacheFigures(stored); })
          .then(function () {
            const ready = document.getElementById("offline-ready");
            if (ready) ready.hidden = false;
            refreshOfflinePage();
          });
      }).catch(function () { /* no connection: what the device has stays */ });
  }

  function cacheFigures(stored) {
    if (!window.caches) return;
    return caches.open(FIGURE_CACHE).then(function (cache) {
      return Promise.all(stored.questions.filter(function (q) { return q.figure_url; }).map(function (q) {
        return cache.add(new Request(q.figure_url, { credentials: "same-origin" })).catch(function () {});
      }));
    });
  }

  // Answers given online moved the server on since the download: the device
  // starts from the card the server showed last.
  function noteServerPosition() {
    const input = document.querySelector("#quiz-card:not([data-offline-card]) input[name=position]");
    if (!input) return Promise.resolve();
    const patch = { id: Number(root.dataset.sessionId), answered_count: Number(input.value), status: "active" };
    return forget([], patch);
  }

  function goOffline() {
    const id = Number(root.dataset.sessionId);
    return noteServerPosition().then(function () { return showCard(id, true); }).then(function (shown) {
      if (!shown) {
        const error = document.getElementById("quiz-error");
        if (error) {
          error.textContent = gettext("이 풀이는 아직 이 기기에 저장되지 않아 연결 없이 이어 풀 수 없습니다.");
          error.hidden = false;
        }
      }
      return shown;
    });
  }

  function isAnswerForm(elt) {
    return root && elt && elt.closest && elt.closest("#quiz-card form.answers") !== null;
  }

  function answerParams(parameters) {
    return {
      key: parameters.client_key,
      position: Number(parameters.position),
      question_id: Number(parameters.question_id),
      choice: Number(parameters.choice),
      elapsed_ms: Number(parameters.elapsed_ms) || 0,
    };
  }

  if (root) {
    // Every online answer carries a key too: if its reply is lost, the same
    // answer waits here under the same key and the server records it once.
    document.addEventListener("htmx:configRequest", function (event) {
      if (!isAnswerForm(event.detail.elt)) return;
      event.detail.parameters.client_key = uuid();
      const form = event.detail.elt.closest("form");
      form.lastAnswer = answerParams(event.detail.parameters);
      if (!navigator.onLine || offlineSession !== null) {
        event.preventDefault();
        goOffline().then(function (shown) { if (shown) return answerOffline(form.lastAnswer); });
      }
    });
    ["htmx:sendError", "htmx:timeout"].forEach(function (name) {
      document.addEventListener(name, function (event) {
        if (!isAnswerForm(event.detail.elt)) return;
        const answer = event.detail.elt.closest("form").lastAnswer;
        goOffline().then(function (shown) { if (shown && answer) return answerOffline(answer); });
      });
    });
    document.addEventListener("htmx:afterSwap", function (event) {
      if (event.detail.target && event.detail.target.id === "quiz-card") noteServerPosition();
    });
    window.addEventListener("offline", function () { if (offlineSession === null) goOffline(); });
    sessionAnswers(Number(root.dataset.sessionId)).then(function (waiting) {
      if (waiting.length) return goOffline().then(sync); // the device is ahead of the server
      if (navigator.onLine) return download();
      return goOffline();
    });
  }

  // --- The offline page: the session the address names, or the list ---------

  function offlineApp() { return document.getElementById("offline-app"); }

  function renderSessionList(container) {
    if (!container) return Promise.resolve();
    return Promise.all([getAll("sessions"), pendingAnswers()]).then(function (found) {
      const sessions = found[0].filter(mine);
      const list = el("ul", { class: "list", id: "offline-sessions" });
      sessions.forEach(function (stored) {
        const waiting = found[1].filter(function (a) { return a.session_id === stored.id; });
        const position = nextPosition(stored, waiting);
        const label = stored.session.topic + " · " + stored.session.mode;
        const count = interpolate(gettext("%(done)s / %(size)s · 보낼 답 %(n)s개"),
          { done: position, size: stored.session.size, n: waiting.length }, true);
        list.appendChild(el("li", {}, [el("a", { class: "row-link", href: stored.session.quiz_url }, [
          el("span", { text: label }), el("span", { class: "muted", text: count }),
        ])]));
      });
      const heading = el("h2", { id: "offline-sessions-h", text: gettext("이 기기에 있는 풀이") });
      const none = el("p", { class: "muted", text: gettext("내려받은 풀이가 없습니다. 연결된 상태에서 단계별·복습 풀이를 시작하면 이 기기에 저장됩니다.") });
      container.replaceChildren(el("section", { "aria-labelledby": "offline-sessions-h" },
        [heading, sessions.length ? list : none]));
    });
  }

  const app = offlineApp();
  if (app && userId !== null) {
    const id = shownSessionId();
    (id === null ? Promise.resolve(false) : showCard(id, false)).then(function (shown) {
      if (shown) document.title = gettext("문제 풀기") + " · " + document.title;
      else renderSessionList(document.getElementById("offline-list"));
      if (window.location.pathname.match(resultsPath)) {
        const wait = document.getElementById("offline-results");
        if (wait) wait.hidden = false;
      }
    });
  }

  // A finished session's results are on the server: its copy here can go.
  const results = window.location.pathname.match(resultsPath);
  if (results && !app && userId !== null) {
    const id = Number(results[1]);
    sessionAnswers(id).then(function (waiting) { if (!waiting.length) return dropSession(id); });
  }

  // --- Other tabs, the connection, the service worker ------------------------

  if (channel) {
    channel.onmessage = function (event) {
      const message = event.data || {};
      if (message.type === "queued" && offlineSession === message.session_id) {
        showCard(offlineSession, false).then(updateStatus);
      } else if (message.type === "synced") {
        afterSessionSynced(message);
      }
    };
  }
  function comeBackOnline() {
    clearInterval(state.onlineWatch);
    state.onlineWatch = null;
    state.retryMs = 1000;
    updateStatus();
    return Promise.resolve(sync()).then(backOnline);
  }

  function watchForOnline() {
    if (state.onlineWatch !== null) return;
    state.onlineWatch = setInterval(function () {
      if (navigator.onLine) comeBackOnline();
    }, NETWORK_RETRY_MS);
  }

  window.addEventListener("online", comeBackOnline);

  // A short drop with nothing answered meanwhile: back to the server's page.
  function backOnline() {
    const id = offlineSession;
    if (id === null || state.leaving || shownSessionId() !== id || !navigator.onLine) return;
    return Promise.all([sessionAnswers(id), getSession(id)]).then(function (found) {
      if (found[0].length || !found[1]) return;
      // The server answers (not only the browser's online flag): its page again.
      return fetch(found[1].session.bundle_url, { credentials: "same-origin" }).then(function (response) {
        if (response.ok) window.location.reload();
      }).catch(function () { /* still unreachable: stay on the device */ });
    });
  }
  window.addEventListener("offline", function () {
    watchForOnline();
    updateStatus();
  });
  updateStatus().then(function () { if (navigator.onLine) sync(); else watchForOnline(); });

  function refreshOfflinePage() {
    if (navigator.serviceWorker && navigator.serviceWorker.controller) {
      navigator.serviceWorker.controller.postMessage({ type: "refresh-offline-page" });
    }
  }

  if ("serviceWorker" in navigator && body.dataset.swUrl) {
    navigator.serviceWorker.register(body.dataset.swUrl, { scope: "/" }).catch(function () {});
    // Signed out: the offline page the worker keeps must not name the last learner.
    if (userId === null && navigator.onLine) refreshOfflinePage();
  }

  // Install: the browser's prompt, offered by a button when it has one.
  let installPrompt = null;
  const installButton = document.getElementById("install-app");
  window.addEventListener("beforeinstallprompt", function (event) {
    event.preventDefault();
    installPrompt = event;
    if (installButton) installButton.hidden = false;
  });
  if (installButton) {
    installButton.addEventListener("click", function () {
      if (!installPrompt) return;
      installPrompt.prompt();
      installPrompt.userChoice.finally(function () {
        installPrompt = null;
        installButton.hidden = true;
      });
    });
  }
  window.addEventListener("appinstalled", function () { if (installButton) installButton.hidden = true; });
})();
