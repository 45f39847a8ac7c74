// The hosted payment page (/pay/{id}): once the widget says the payment is paid, show
// "Lihat struk" / "View receipt". The receipt's address is not in the page while the payment
// is open (the browser's view of a payment carries receipt_url only once paid), so it is
// asked for here, from this origin, when the widget's paid event comes.
"use strict";

(function () {
  const holder = document.getElementById("receipt");
  if (!holder) return;
  document.addEventListener("paydigital:paid", async () => {
    if (!holder.hidden) return;
    const id = holder.dataset.payment;
    try {
      const response = await fetch("/api/payments/" + encodeURIComponent(id), {
        credentials: "same-origin",
        headers: { accept: "application/json" },
      });
      if (!response.ok) return;
      const payment = await response.json();
      if (typeof payment.receipt_url !== "string") return;
      // The path: the receipt is on this same host, whatever name the page was opened by.
      const link = holder.querySelector("a");
      link.href = new URL(payment.receipt_url, window.location.href).pathname;
      holder.hidden = false;
    } catch (_) {
      // No link rather than a broken one; the shop can still send the receipt.
    }
  });
})();
