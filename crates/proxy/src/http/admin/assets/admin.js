// The dashboard's progressive enhancement: everything works without it but the live parts.
// - Live: a page with [data-live] polls /admin/live every 2 s and puts each changed
//   payment's row (drawn by the server) in place, new ones at the top of an unfiltered list
//   (on the counter: the person's own new sales).
// - Announce payments (also for the counter, window.PayDigitalAdmin): a payment that turns
//   paid while announcing is on and this page is open is spoken (Web Speech API, id-ID) once
//   per device, whatever the number of open tabs: the Web Locks API makes "seen? then mark"
//   one step across tabs, and localStorage remembers what was said and since when announcing
//   is on. What was paid before is never spoken: the feed's overlap, a tab opened later, a
//   tab that slept or a check that learned of a payment late all bring back old payments, and
//   at a till a stale "pembayaran diterima" is a false "paid".
"use strict";

(function () {
  const POLL_MS = 2000;
  const ANNOUNCED = "pd-announced";
  // "on@<server ms it was turned on>" or "off" ("on" alone: written before the moment was).
  const ANNOUNCE_ON = "pd-announce";

  // The server's clock minus this device's: paid moments come from the server, so the moment
  // announcing was turned on and the page's opening are kept on the server's clock too (a
  // till's tablet may be minutes off). Set from the page (drawn at data-live-since) and from
  // each poll's `now`; both reach the device a little late, so it errs early by that latency.
  let clockOffset = 0;
  const serverNow = () => Date.now() + clockOffset;
  // When this page opened, on the server's clock: nothing paid before is spoken here.
  let pageSince = null;

  function readPage() {
    if (pageSince !== null) return;
    const container = document.querySelector("[data-live]");
    const drawn = container ? Number(container.getAttribute("data-live-since")) : NaN;
    if (Number.isFinite(drawn) && drawn > 0) clockOffset = drawn - Date.now();
    pageSince = serverNow();
  }

  // The stored setting: { on, since } (since: server ms; 0 when unknown).
  function parseSetting(value) {
    const match = /^on(?:@(\d+))?$/.exec(value || "");
    if (!match) return { on: false, since: 0 };
    return { on: true, since: match[1] ? Number(match[1]) : 0 };
  }

  function setting() {
    try { return parseSetting(localStorage.getItem(ANNOUNCE_ON)); } catch (_) { return { on: false, since: 0 }; }
  }

  // Whether a payment paid by `paidAt` (server ms) is news to say on a page opened at
  // `opened` with announcing `set`: on, and paid after it was turned on and after the page
  // opened. `paidAt` is the latest moment it was surely paid by (PayDigital's whole second),
  // so a payment paid within the same second as either moment is said, never an older one.
  function isNews(paidAt, set, opened) {
    if (!set || !set.on) return false;
    if (typeof paidAt !== "number" || !Number.isFinite(paidAt)) return false;
    return paidAt > Math.max(set.since || 0, opened || 0);
  }

  // The moment the counter's widget saw its sale paid, on the server's clock: the payment's
  // `paid_at` (an RFC 3339 time in whole seconds: the end of that second), never later than now.
  function paidBySeen(paidAtText) {
    const at = Date.parse(paidAtText || "");
    return Number.isFinite(at) ? Math.min(at + 1000, serverNow()) : serverNow();
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

  // Announces `payment`, paid by `paidAt` (server ms), if that is news (isNews) and no tab of
  // this device has yet; resolves once the lock is released, with a promise of the words
  // having been said.
  async function announceOnce(payment, text, paidAt) {
    readPage();
    if (!isNews(paidAt, setting(), pageSince)) return { said: Promise.resolve() };
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
    toggle.checked = setting().on;
    const showHint = () => {
      const active = navigator.userActivation ? navigator.userActivation.hasBeenActive : true;
      if (hint) hint.hidden = !(toggle.checked && !active);
    };
    toggle.addEventListener("change", () => {
      // Turned on now: only what is paid from this moment on is said (on every tab).
      const value = toggle.checked ? "on@" + Math.round(serverNow()) : "off";
      try { localStorage.setItem(ANNOUNCE_ON, value); } catch (_) { /* private mode */ }
      showHint();
    });
    // Turned on or off in another tab: this one shows the same (it is one setting per device).
    window.addEventListener("storage", (event) => {
      if (event.key === ANNOUNCE_ON) { toggle.checked = setting().on; showHint(); }
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
          // A full answer's `now` is its last event's moment, not the server's clock.
          if (!live.after) clockOffset = live.now - Date.now();
          // A full answer: the next one goes on after its last event, without the overlap.
          after = live.after || null;
          for (const change of live.changes) {
            if (seen.has(change.event)) continue;
            seen.add(change.event);
            placeRow(container, change);
            let spoken = { said: Promise.resolve() };
            if (change.type === "payment.paid" && change.announce) {
              spoken = await announceOnce(change.payment, change.announce, change.paid_at);
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
  // rules as the live feed, which then says nothing more about it.
  // It places its new sale's row as the feed places one. parseSetting and isNews are pure,
  // for the browser test to ask directly.
  window.PayDigitalAdmin = { announceOnce, paidBySeen, placeRow, parseSetting, isNews };

  document.addEventListener("DOMContentLoaded", () => {
    readPage();
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
