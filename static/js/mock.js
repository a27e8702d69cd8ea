// Mock exam (CBT): one question at a time, answer sheet, server-kept drafts,
// a countdown from the server's remaining time that submits at zero.
(function () {
  const form = document.querySelector("[data-mock]");
  if (!form) return;
  form.classList.add("js");
  const questions = Array.from(form.querySelectorAll(".mock-q"));
  const submitPanel = form.querySelector(".mock-submit");
  const sheet = form.querySelector("[data-sheet]");
  const status = form.querySelector("[data-save-status]");
  const errorBox = document.getElementById("mock-error");
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  let current = 0;
  let lastQuestion = 0;
  let submitting = false;

  // --- navigation ---------------------------------------------------------
  function show(index, focus) {
    const panels = questions.concat([submitPanel]);
    index = Math.max(0, Math.min(index, panels.length - 1));
    panels.forEach(function (panel, i) { panel.classList.toggle("current", i === index); });
    current = index;
    if (index < questions.length) lastQuestion = index;
    form.querySelectorAll(".sheet-cell.current").forEach(function (c) { c.classList.remove("current"); });
    const cell = form.querySelector('[data-sheet-cell="' + index + '"]');
    if (cell) { cell.classList.add("current"); cell.setAttribute("aria-current", "step"); }
    const hash = index < questions.length ? "#q" + (index + 1) : "#submit";
    if (window.location.hash !== hash) history.replaceState(null, "", hash);
    if (index === questions.length) updateCounts();
    if (focus) {
      const target = panels[index].querySelector(".quiz-stem, h2");
      if (target) target.focus({ preventScroll: true });
      window.scrollTo({ top: 0 });
    }
    if (window.matchMedia("(max-width: 899px)").matches && sheet) sheet.open = false;
  }
  function indexFromHash() {
    const match = /^#q(\d+)$/.exec(window.location.hash);
    if (match) return Number(match[1]) - 1;
    if (window.location.hash === "#submit") return questions.length;
    const firstOpen = questions.findIndex(function (q) { return !choiceOf(q); });
    return firstOpen === -1 ? 0 : firstOpen;
  }
  form.addEventListener("click", function (event) {
    const cell = event.target.closest("[data-sheet-cell]");
    if (cell) { event.preventDefault(); show(Number(cell.dataset.sheetCell), true); return; }
    if (event.target.closest("[data-open-submit]")) { event.preventDefault(); show(questions.length, true); return; }
    const go = event.target.closest("[data-go]");
    if (go) {
      const where = go.dataset.go;
      show(where === "prev" ? current - 1 : where === "next" ? current + 1 : lastQuestion, true);
      return;
    }
    const clear = event.target.closest("[data-clear]");
    if (clear) {
      const panel = clear.closest(".mock-q");
      panel.querySelectorAll("input[type=radio]").forEach(function (r) { r.checked = false; });
      changed(panel, { choice: "0" });
    }
  });

  // --- answers and marks --------------------------------------------------
  function choiceOf(panel) {
    const checked = panel.querySelector("input[type=radio]:checked");
    return checked ? checked.value : "";
  }
  function refreshCell(panel) {
    const position = panel.dataset.position;
    const cell = form.querySelector('[data-sheet-cell="' + position + '"]');
    const choice = choiceOf(panel);
    const marked = panel.querySelector("input[type=checkbox]").checked;
    cell.classList.toggle("answered", !!choice);
    cell.classList.toggle("marked", marked);
    cell.querySelector("[data-sheet-choice]").textContent = choice === "5" ? "?" : choice || "·";
    const state = choice
      ? (choice === "5" ? gettext("모르겠음") : interpolate(gettext("%(choice)s번 표기"), { choice: choice }, true))
      : gettext("안 푼 문제");
    // Read after the visible number and mark, which the name must contain (WCAG 2.5.3).
    cell.querySelector("[data-sheet-label]").textContent =
      interpolate(gettext("%(number)s번"), { number: Number(position) + 1 }, true) +
      " " + state + (marked ? " · " + gettext("검토 표시") : "");
    updateCounts();
  }
  function updateCounts() {
    const answered = questions.filter(function (q) { return choiceOf(q); }).length;
    const marked = questions.filter(function (q) { return q.querySelector("input[type=checkbox]").checked; }).length;
    form.querySelector('[data-count="answered"]').textContent = answered;
    form.querySelector('[data-count="unanswered"]').textContent = questions.length - answered;
    form.querySelector('[data-count="marked"]').textContent = marked;
    const summary = form.querySelector("[data-sheet-summary]");
    if (summary) summary.textContent = answered + " / " + questions.length;
  }
  function changed(panel, fields) {
    refreshCell(panel);
    save(Object.assign({ position: panel.dataset.position }, fields));
  }
  form.addEventListener("change", function (event) {
    const panel = event.target.closest(".mock-q");
    if (!panel) return;
    if (event.target.type === "radio") changed(panel, { choice: event.target.value });
    if (event.target.type === "checkbox") changed(panel, { marked: event.target.checked ? "1" : "0" });
  });

  // --- drafts kept on the server -------------------------------------------
  let pending = Promise.resolve();
  function save(fields) {
    const body = new URLSearchParams(fields);
    status.textContent = gettext("저장 중…");
    pending = pending.then(function () {
      return fetch(form.dataset.draftUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrf },
        body: body,
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          if (!response.ok) throw new Error(data.error || gettext("답을 저장하지 못했습니다."));
          status.textContent = gettext("저장됨");
          errorBox.hidden = true;
          if (typeof data.remaining_ms === "number") setRemaining(data.remaining_ms);
        });
      }).catch(function (error) {
        status.textContent = gettext("저장하지 못했습니다");
        errorBox.textContent = error.message + " " + gettext("고른 답은 제출할 때 함께 보내집니다.");
        errorBox.hidden = false;
      });
    });
  }

  // --- timer: the server's remaining time, counted down here ---------------
  const timer = form.querySelector("[data-timer]");
  let endsAt = 0;
  function setRemaining(ms) { endsAt = performance.now() + ms; }
  function format(ms) {
    const total = Math.max(0, Math.ceil(ms / 1000));
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = total % 60;
    return (h ? h + ":" + String(m).padStart(2, "0") : String(m)) + ":" + String(s).padStart(2, "0");
  }
  function tick() {
    const left = endsAt - performance.now();
    timer.textContent = format(left);
    timer.parentElement.classList.toggle("low", left < 5 * 60 * 1000);
    if (left <= 0) { timeUp(); return; }
    window.setTimeout(tick, Math.min(1000, Math.max(50, left % 1000 || 1000)));
  }
  function timeUp() {
    if (submitting) return;
    status.textContent = gettext("시간이 끝났습니다. 제출합니다…");
    submitting = true;
    pending.then(function () { form.submit(); });
  }
  form.addEventListener("submit", function (event) {
    if (submitting) { event.preventDefault(); return; }
    submitting = true;
    form.querySelectorAll("[data-final-submit]").forEach(function (b) { b.disabled = true; });
  });

  // --- keyboard ------------------------------------------------------------
  document.addEventListener("keydown", function (event) {
    if (event.repeat || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest("textarea, select, input[type=text], input[type=number]")) return;
    if (current >= questions.length) return;
    const panel = questions[current];
    if (/^[1-5]$/.test(event.key)) {
      const radio = panel.querySelector('input[type=radio][value="' + event.key + '"]');
      event.preventDefault();
      if (!radio.checked) { radio.checked = true; changed(panel, { choice: radio.value }); }
    } else if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
      event.preventDefault();
      show(current + (event.key === "ArrowRight" ? 1 : -1), true);
    } else if (event.key === "m" || event.key === "M" || event.key === "ㅡ") {
      const box = panel.querySelector("input[type=checkbox]");
      event.preventDefault();
      box.checked = !box.checked;
      changed(panel, { marked: box.checked ? "1" : "0" });
    }
  });

  // --- start ---------------------------------------------------------------
  if (window.matchMedia("(max-width: 899px)").matches && sheet) sheet.open = false;
  window.addEventListener("hashchange", function () { show(indexFromHash(), true); });
  show(indexFromHash(), false);
  setRemaining(Number(form.dataset.remainingMs));
  tick();
})();
