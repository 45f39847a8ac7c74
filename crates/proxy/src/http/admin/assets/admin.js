// The dashboard's progressive enhancement: everything works without it but the live parts.
// - Live: a page with [data-live] polls /admin/live every 2 s and puts each changed
//   payment's row (drawn by the server) in place, new ones at the top of an unfiltered list
//   (on the counter: the person's own new sales).
// - Announce payments (also for the counter, window.PayDigitalAdmin): a paid payment is spoken (Web Speech API, id-ID) once per device,
//   whatever the number of open tabs: the Web Locks API makes "seen? then mark" one step
//   across tabs, and localStorage remembers what was said and whether announcing is on.
"use strict";

(function () {
  const POLL_MS = 2000;
  const ANNOUNCED = "pd-announced";
  const ANNOUNCE_ON = "pd-announce";

  function announceOn() {
    try { return localStorage.getItem(ANNOUNCE_ON) === "on"; } catch (_) { return false; }
  }

  // Speaks `text`; the promise settles when it has been said (or could not be).
  function speak(text) {
    if (!("speechSynthesis" in window)) return Promise.resolve();
    return new Promise((done) => {
      const utterance = new SpeechSynthesisUtterance(text);
      utterance.lang = "id-ID";
      utterance.onend = done;
      utterance.onerror = done;
      // A voice that never starts (none installed for id-ID) must not hold the page.
      setTimeout(done, 15000);
      window.speechSynthesis.speak(utterance);
    });
  }

  // Marks `payment` announced on this device; true if nobody (no tab) had yet.
  function markAnnounced(payment) {
    let seen = [];
    try { seen = JSON.parse(localStorage.getItem(ANNOUNCED) || "[]"); } catch (_) { seen = []; }
    if (!Array.isArray(seen)) seen = [];
    if (seen.includes(payment)) return false;
    seen.push(payment);
    try { localStorage.setItem(ANNOUNCED, JSON.stringify(seen.slice(-500))); } catch (_) { /* full */ }
    return true;
  }

  // Announces `payment` unless this device has; resolves once the lock is released, with
  // a promise of the words having been said.
  async function announceOnce(payment, text) {
    if (!announceOn()) return { said: Promise.resolve() };
    let said = Promise.resolve();
    const run = () => { if (markAnnounced(payment)) said = speak(text); };
    if (navigator.locks && navigator.locks.request) {
      await navigator.locks.request("pd-announce", run);
    } else {
      run();
    }
    return { said };
  }

  function setUpToggle() {
    const toggle = document.getElementById("announce");
    const hint = document.getElementById("announce-hint");
    if (!toggle) return;
    toggle.checked = announceOn();
    const showHint = () => {
      const active = navigator.userActivation ? navigator.userActivation.hasBeenActive : true;
      if (hint) hint.hidden = !(toggle.checked && !active);
    };
    toggle.addEventListener("change", () => {
      try { localStorage.setItem(ANNOUNCE_ON, toggle.checked ? "on" : "off"); } catch (_) { /* private mode */ }
      showHint();
    });
    document.addEventListener("pointerdown", showHint, { once: true });
    showHint();
  }

  function placeRow(container, change) {
    const table = container.querySelector("table.payments");
    if (!table) return;
    const body = table.querySelector("tbody");
    const old = document.getElementById("row-" + change.payment);
    const holder = document.createElement("tbody");
    holder.innerHTML = change.row;
    const row = holder.firstElementChild;
    if (!row) return;
    if (old) {
      old.replaceWith(row);
    } else if (table.hasAttribute("data-live-prepend")
        || (container.getAttribute("data-live") === "counter" && change.counter)) {
      body.prepend(row);
      const empty = container.querySelector("p.empty");
      if (empty) empty.hidden = true;
    }
  }

  function startLive(container) {
    let since = Number(container.getAttribute("data-live-since")) || Date.now();
    let after = null;
    const shownEvents = new Set((container.getAttribute("data-events") || "").split(" "));
    const seen = new Set();
    const wantsSummary = container.getAttribute("data-live") === "overview";
    const detailOf = container.getAttribute("data-live") === "detail" ? container.getAttribute("data-payment") : null;
    async function poll() {
      try {
        const url = "/admin/live?since=" + encodeURIComponent(since)
          + (after ? "&after=" + encodeURIComponent(after) : "")
          + (wantsSummary ? "&summary=1" : "");
        const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
        if (response.status === 401) { window.location.assign("/admin/login"); return; }
        if (response.ok) {
          const live = await response.json();
          since = live.now;
          // A full answer: the next one goes on after its last event, without the overlap.
          after = live.after || null;
          for (const change of live.changes) {
            if (seen.has(change.event)) continue;
            seen.add(change.event);
            placeRow(container, change);
            let spoken = { said: Promise.resolve() };
            if (change.type === "payment.paid" && change.announce) {
              spoken = await announceOnce(change.payment, change.announce);
            }
            // The detail page is drawn again for an event it does not show yet (the poll's
            // overlap sends those it shows too: reloading for them would never stop), once
            // the announcement is said (a reload would cut it short).
            if (detailOf && change.payment === detailOf && !shownEvents.has(change.event)) {
              await spoken.said;
              window.location.reload();
              return;
            }
          }
          if (live.summary) {
            const summary = document.getElementById("summary");
            if (summary) summary.outerHTML = live.summary;
          }
          if (seen.size > 5000) seen.clear();
        }
      } catch (_) {
        // Offline or the server restarting: the next poll tries again.
      }
      setTimeout(poll, POLL_MS);
    }
    setTimeout(poll, POLL_MS);
  }

  // The counter announces its own sale the moment it is paid (counter.js), through the same
  // once-per-device rule as the live feed, which then says nothing more about it.
  // It places its new sale's row as the feed places one.
  window.PayDigitalAdmin = { announceOnce, placeRow };

  document.addEventListener("DOMContentLoaded", () => {
    setUpToggle();
    const container = document.querySelector("[data-live]");
    if (container) startLive(container);
  });
})();

// Payment links: a Copy button puts its link's address (the field it names) on the
// clipboard; without the Clipboard API the field is selected for the person to copy.
document.addEventListener("click", (event) => {
  const button = event.target.closest && event.target.closest("button[data-copy]");
  if (!button) return;
  const field = document.getElementById(button.dataset.copy);
  if (!field) return;
  field.select();
  if (!navigator.clipboard) return;
  navigator.clipboard.writeText(field.value).then(() => {
    if (button.dataset.copied) button.textContent = button.dataset.copied;
  }, () => { /* selected: the person copies it */ });
});
