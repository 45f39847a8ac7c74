// Where the widget comes from: the shop's proxy. Same origin by default; `?proxy=URL` names
// another (the tests' sandbox proxy).
export const PROXY = new URLSearchParams(location.search).get("proxy") || "";
export const ENDPOINT = `${PROXY}/api/payments`;

let loading = null;

/** The loader script, added once; resolves with the `PayDigitalCheckout` global. */
export function loadCheckout() {
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = `${PROXY}/checkout/paydigital-checkout.js`;
      script.onload = () => resolve(window.PayDigitalCheckout);
      script.onerror = () => reject(new Error("the checkout script did not load"));
      document.head.append(script);
    });
  }
  return loading;
}
