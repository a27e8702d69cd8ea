// Translations: gettext() and friends come from Django's JavaScriptCatalog
// (/jsi18n/, loaded before this file). If it failed to load, the Korean
// source text is shown rather than nothing.
if (!window.gettext) {
  window.gettext = function (text) { return text; };
  window.ngettext = function (singular, plural, count) { return count === 1 ? singular : plural; };
  window.interpolate = function (format, values) {
    return format.replace(/%\((\w+)\)s/g, function (_match, key) { return String(values[key]); });
  };
}

// Language switch: choosing a language submits the form (the button stays for no-JS).
document.addEventListener("change", function (event) {
  if (event.target.matches && event.target.matches("[data-language-form] [data-autosubmit]")) {
    event.target.form.submit();
  }
});

// Theme: follows the system unless the learner picked one.
(function () {
  const root = document.documentElement;
  const saved = localStorage.getItem("theme");
  if (saved) root.dataset.theme = saved;
  document.addEventListener("click", function (event) {
    if (!event.target.closest("[data-theme-toggle]")) return;
    const dark = root.dataset.theme
      ? root.dataset.theme === "dark"
      : window.matchMedia("(prefers-color-scheme: dark)").matches;
    root.dataset.theme = dark ? "light" : "dark";
    localStorage.setItem("theme", root.dataset.theme);
  });
})();

// Forms that ask first: <form data-confirm="…"> (no inline handlers under the CSP).
document.addEventListener("submit", function (event) {
  const form = event.target.closest && event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
}, true);

// Quiz start form: only the chosen mode's inputs are sent.
(function () {
  function sync(form) {
    const mode = form.querySelector("input[name=mode]:checked");
    form.querySelectorAll(".mode-fields").forEach(function (fs) {
      const on = mode && fs.classList.contains("mode-" + mode.value);
      fs.querySelectorAll("input, select").forEach(function (el) { el.disabled = !on; });
    });
  }
  document.addEventListener("change", function (event) {
    const form = event.target.closest(".quiz-start");
    if (form && event.target.name === "mode") sync(form);
  });
  // Also after Back (the browser restores the radios after DOMContentLoaded)
  // and right before submitting, so the chosen mode's fields are always sent.
  ["DOMContentLoaded", "pageshow"].forEach(function (name) {
    window.addEventListener(name, function () {
      document.querySelectorAll(".quiz-start").forEach(sync);
    });
  });
  document.addEventListener("submit", function (event) {
    if (event.target.matches(".quiz-start")) sync(event.target);
  }, true);
})();

// Quiz: time per question, keys 1-5, focus on the new question, errors shown.
(function () {
  let shownAt = performance.now();
  function cardShown() {
    shownAt = performance.now();
    // After an answer with immediate feedback, focus 다음 문제 (the verdict is
    // announced by its role=status); otherwise the new question.
    const target = document.querySelector("[data-question-card] [data-next]") ||
      document.querySelector("[data-question-card] .quiz-stem");
    if (target) target.focus({ preventScroll: false });
  }
  document.addEventListener("DOMContentLoaded", function () { shownAt = performance.now(); });
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "quiz-card") cardShown();
    const error = document.getElementById("quiz-error");
    if (error) error.hidden = true;
  });
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.parameters && "elapsed_ms" in event.detail.parameters) {
      event.detail.parameters.elapsed_ms = Math.round(performance.now() - shownAt);
    }
  });
  document.addEventListener("htmx:responseError", function (event) {
    const error = document.getElementById("quiz-error");
    if (!error) return;
    error.textContent = (event.detail.xhr.responseText || gettext("요청을 처리하지 못했습니다.")) + " ";
    const reload = document.createElement("a");
    reload.href = window.location.href;
    reload.textContent = gettext("현재 문제 불러오기");
    error.appendChild(reload);
    error.hidden = false;
  });
  document.addEventListener("keydown", function (event) {
    if (event.repeat || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest("input, textarea, select")) return;
    if (!/^[1-5]$/.test(event.key)) return;
    const button = document.querySelector('[data-question-card] .answer[data-key="' + event.key + '"]');
    if (button && !button.disabled) { event.preventDefault(); button.click(); }
  });
})();

// Result cards: the expand button toggles; the detail is fetched once.
(function () {
  document.addEventListener("htmx:beforeRequest", function (event) {
    const button = event.detail.elt;
    if (!button.matches || !button.matches("[data-expand]")) return;
    const detail = document.getElementById(button.getAttribute("aria-controls"));
    if (detail && detail.childElementCount) {
      event.preventDefault();
      detail.hidden = !detail.hidden;
      button.textContent = detail.hidden ? gettext("펼치기") : gettext("접기");
      button.setAttribute("aria-expanded", String(!detail.hidden));
    }
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    const button = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (button && button.matches && button.matches("[data-expand]")) {
      button.textContent = gettext("접기");
      button.setAttribute("aria-expanded", "true");
    }
  });
})();

// Math in explanations and questions: vendored KaTeX, $...$ and $$...$$.
(function () {
  function renderMath(root) {
    if (!window.renderMathInElement) return;
    root.querySelectorAll("[data-math], .stem, .answer-text, .choices").forEach(function (el) {
      window.renderMathInElement(el, {
        delimiters: [
          { left: "$$", right: "$$", display: true },
          { left: "$", right: "$", display: false },
        ],
        throwOnError: false,
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { renderMath(document); });
  document.addEventListener("htmx:afterSettle", function (event) { renderMath(event.detail.elt); });
})();

// Repeat badges: one bulk request fills every slot of a result list or round.
(function () {
  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }
  function badge(slot, info) {
    if (!info || info.round_count < 2) return;
    const link = document.createElement("a");
    link.className = "badge repeat-badge";
    link.href = info.url;
    const values = { rounds: info.round_count, related: info.related_count };
    link.title = interpolate(gettext("%(rounds)s개 회차에 나온 문제 · 관련 %(related)s문제"), values, true);
    // The grade comes translated (grade_label): the stored grade is Korean.
    link.textContent = "🔥 " + (info.grade_label || gettext("반복 출제")) + " · " +
      interpolate(ngettext("%(rounds)s개 회차", "%(rounds)s개 회차", info.round_count), values, true);
    slot.replaceChildren(link);
  }
  function fill(container) {
    const slots = Array.from(
      container.querySelectorAll(".repeat-badge-slot[data-question-id]:not([data-filled])")
    );
    if (!slots.length) return;
    slots.forEach(function (slot) { slot.dataset.filled = "pending"; });
    const ids = Array.from(new Set(slots.map(function (slot) { return Number(slot.dataset.questionId); })));
    fetch(container.dataset.relatedBulkUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ ids: ids }),
    })
      .then(function (response) { return response.ok ? response.json() : { results: {} }; })
      .then(function (data) {
        slots.forEach(function (slot) {
          slot.dataset.filled = "done";
          badge(slot, data.results[slot.dataset.questionId]);
        });
      })
      .catch(function () {
        slots.forEach(function (slot) { delete slot.dataset.filled; });
      });
  }
  function scan(root) {
    if (!root || !root.querySelectorAll) return;
    const containers = Array.from(root.querySelectorAll("[data-related-bulk-url]"));
    if (root.matches && root.matches("[data-related-bulk-url]")) containers.unshift(root);
    containers.forEach(fill);
  }
  document.addEventListener("DOMContentLoaded", function () { scan(document); });
  document.addEventListener("htmx:afterSettle", function (event) { scan(event.detail.elt); });
})();

// AI cards: while a click waits for the LLM, count the seconds; if the request
// fails (server error, timeout, network), say so instead of quietly going
// back to the button.
(function () {
  const timers = new WeakMap();
  function aiForm(event) {
    const elt = event.detail && event.detail.elt;
    return elt && elt.closest ? elt.closest(".ai-form") : null;
  }
  document.addEventListener("htmx:beforeRequest", function (event) {
    const form = aiForm(event);
    if (!form) return;
    const old = form.querySelector(".ai-request-error");
    if (old) old.remove();
    const out = form.querySelector("[data-elapsed-text]");
    if (!out) return;
    const started = Date.now();
    out.textContent = "";
    timers.set(form, setInterval(function () {
      const s = Math.round((Date.now() - started) / 1000);
      out.textContent = s < 60
        ? interpolate(gettext("%(s)s초 경과"), { s: s }, true)
        : interpolate(gettext("%(m)s분 %(s)s초 경과"), { m: Math.floor(s / 60), s: s % 60 }, true);
    }, 1000));
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    const form = aiForm(event);
    if (!form) return;
    clearInterval(timers.get(form));
    if (event.detail.successful) return;
    const note = document.createElement("p");
    note.className = "message error ai-request-error";
    const status = event.detail.xhr && event.detail.xhr.status;
    note.textContent = status
      ? interpolate(gettext("요청이 실패했습니다 (HTTP %(status)s). 잠시 후 다시 시도하세요."), { status: status }, true)
      : gettext("서버의 응답을 받지 못했습니다 (연결 끊김이나 시간 초과). 잠시 후 다시 시도하세요.");
    form.appendChild(note);
  });
})();
