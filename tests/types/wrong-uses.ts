// Mistakes the types must catch. Each line after @ts-expect-error must NOT compile: if it
// ever does, tsc reports the unused directive and `make test-types` fails.

// @ts-expect-error an unknown option
void PayDigitalCheckout.mount("#pay", { amount: 10000, colour: "red" });
// @ts-expect-error a wrong type (pollInterval is a number)
void PayDigitalCheckout.mount("#pay", { amount: 10000, pollInterval: true });
// @ts-expect-error no order at all (one of amount, item, payment)
void PayDigitalCheckout.mount("#pay", { reference: "ORDER-1" });
// @ts-expect-error both an amount and an item
void PayDigitalCheckout.mount("#pay", { amount: 10000, item: "kopi" });
// @ts-expect-error a payment id that is not one (pay_...)
void PayDigitalCheckout.mount("#pay", { payment: "PYG2026" });
// @ts-expect-error a language the widget does not speak
void PayDigitalCheckout.mount("#pay", { amount: 10000, lang: "fr" });
// @ts-expect-error a callback with the wrong argument
void PayDigitalCheckout.mount("#pay", { amount: 10000, onPaid: (p: string) => p });
// @ts-expect-error no such method on the global
PayDigitalCheckout.open("#pay");

document.createElement("paydigital-checkout").addEventListener("paydigital:created", (e) => {
  // @ts-expect-error total_amount is a number, not text
  const total: string = e.detail.total_amount;
  return total;
});
document.addEventListener("paydigital:error", (e) => {
  // @ts-expect-error a code the widget never emits
  if (e.detail.code === "card_declined") return;
});

async function handleMistakes() {
  const checkout = await PayDigitalCheckout.mount("#pay", { amount: 10000 });
  // @ts-expect-error destroy takes nothing and returns nothing usable
  const result: Promise<void> = checkout.destroy();
  // @ts-expect-error update takes options, not an amount
  checkout.update(15000);
  return result;
}

export { handleMistakes };
