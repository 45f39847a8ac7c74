// The sandbox's Pay and Expire buttons: each says its invoice and action in data attributes
// (no inline handlers, so the pages' policy allows no inline script).
"use strict";
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  button.disabled = true;
  const url = "/sandbox/payments/" + encodeURIComponent(button.dataset.invoice) + "/" + button.dataset.action;
  const answer = await fetch(url, { method: "POST" }).catch(() => null);
  if (!answer || !answer.ok) alert("Gagal / Failed: " + (answer ? answer.status : "network"));
  location.reload();
});
