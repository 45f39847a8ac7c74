// A shop's TypeScript, as the README shows it: must compile under --strict with no casts.

async function openCheckout(orderId: string, total: number): Promise<PayDigitalCheckoutHandle> {
  await PayDigitalCheckout.preload();
  const checkout = await PayDigitalCheckout.mount("#pay", {
    amount: total,
    reference: orderId,
    lang: "en",
    pollInterval: 2000,
    successUrl: "/terima-kasih",
    onPaid: (payment) => console.log(payment.invoice, payment.total_amount.toFixed(0)),
    onError: (error) => {
      if (error.code === "csp_blocked") console.warn(error.message);
    },
  });
  checkout.update({ amount: total + 1000 });
  const state: PayDigitalState | "destroyed" = checkout.state;
  console.log(state, checkout.payment?.id);
  return checkout;
}

// An item from the catalog, and a payment the shop's server made.
void PayDigitalCheckout.mount(document.body, { item: "kopi-susu", customerName: "Budi" });
void window.PayDigitalCheckout.mount("#pay", { payment: "pay_abcdefghijklmnop" });

// The element, typed by its tag name, and its events on it and on document.
const element = document.createElement("paydigital-checkout");
element.setAttribute("amount", "10000");
element.addEventListener("paydigital:created", (e) => {
  const total: number = e.detail.total_amount;
  console.log(total + 1);
});
document.querySelector("paydigital-checkout")?.addEventListener("paydigital:error", (e) => {
  const code: PayDigitalErrorCode = e.detail.code;
  console.log(code);
});
document.addEventListener("paydigital:paid", (e) => console.log(e.detail.paid_at ?? "now"));

export { openCheckout };
