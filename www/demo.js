// The demo shop's page script: Buy opens the widget in a dialog. A file of its own, so the
// page runs under a policy with no 'unsafe-inline' (the one a careful shop would set).
(function () {
  var dialog = document.getElementById("checkout-dialog");
  var slot = document.getElementById("checkout-slot");
  function open(amount, description) {
    slot.innerHTML = "";
    var checkout = document.createElement("paydigital-checkout");
    checkout.setAttribute("amount", String(amount));
    checkout.setAttribute("description", description);
    checkout.setAttribute("customer-name", "Pelanggan Demo");
    checkout.setAttribute("reference", "DEMO-" + description.replace(/\W+/g, "-") + "-" + amount);
    checkout.addEventListener("paydigital:paid", function (e) {
      console.log("paid", e.detail);
    });
    slot.appendChild(checkout);
    if (dialog.showModal) dialog.showModal(); else dialog.setAttribute("open", "");
  }
  document.querySelectorAll(".product .buy").forEach(function (button) {
    button.addEventListener("click", function () {
      open(Number(button.dataset.amount), button.dataset.description);
    });
  });
  document.getElementById("tip-form").addEventListener("submit", function (event) {
    event.preventDefault();
    open(Math.round(Number(document.getElementById("tip-amount").value)), "Dukungan untuk toko");
  });
  function close() {
    slot.innerHTML = "";  // removing the element stops all its work
    if (dialog.close) dialog.close(); else dialog.removeAttribute("open");
  }
  document.getElementById("close-checkout").addEventListener("click", close);
  // The checkout opens on a click: fetch and compile the widget now (the loader is
  // deferred, so it has run by DOMContentLoaded), and the QR shows a latency sooner.
  document.addEventListener("DOMContentLoaded", function () {
    if (window.PayDigitalCheckout) window.PayDigitalCheckout.preload();
  });
  dialog.addEventListener("close", function () { slot.innerHTML = ""; });
})();
