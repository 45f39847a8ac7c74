import { useEffect, useRef, useState } from "react";
import { ENDPOINT, loadCheckout } from "./checkout.js";

const PRICE = 12000;

// The modal's checkout, mounted from JavaScript in an effect and destroyed by its cleanup.
// mount() is async: a cleanup that runs first (StrictMode, a quick close) destroys the
// handle when it arrives.
function CheckoutModal({ orderId, total, onClose }) {
  const target = useRef(null);
  useEffect(() => {
    window.pdEffectRuns = (window.pdEffectRuns || 0) + 1;
    let handle = null;
    let gone = false;
    loadCheckout()
      .then((api) => api.mount(target.current, {
        endpoint: ENDPOINT, amount: total, reference: orderId, description: "Pesanan " + orderId,
        onPaid: (payment) => console.log("paid", payment.invoice),
      }))
      .then((h) => (gone ? h.destroy() : (handle = h)));
    return () => {
      gone = true;
      handle?.destroy();
    };
  }, [orderId, total]);
  return (
    <div role="dialog" aria-modal="true" aria-label="Pembayaran" className="modal">
      <div id="modal-checkout" ref={target} />
      <button type="button" id="close" onClick={onClose}>Tutup</button>
    </div>
  );
}

export function App() {
  const [count, setCount] = useState(1);
  const [open, setOpen] = useState(false);
  const [events, setEvents] = useState([]);
  const total = count * PRICE;
  useEffect(() => { loadCheckout(); }, []);
  useEffect(() => {
    // The element's events reach document (bubbling, composed).
    const seen = (e) => setEvents((list) => [...list, `${e.type} ${e.detail.total_amount ?? e.detail.code}`]);
    document.addEventListener("paydigital:created", seen);
    return () => document.removeEventListener("paydigital:created", seen);
  }, []);
  return (
    <main>
      <h1>Toko Kopi</h1>
      <p>
        Kopi Susu × <span id="count">{count}</span>
        <button type="button" id="more" onClick={() => setCount(count + 1)}>Tambah</button>
      </p>
      {/* The element with props that change: a new amount is a new payment, never the old QR. */}
      <paydigital-checkout id="cart-checkout" endpoint={ENDPOINT} amount={total}
        reference="REACT-CART" lang="id"></paydigital-checkout>
      <button type="button" id="pay" onClick={() => setOpen(true)}>Bayar di jendela</button>
      {open && <CheckoutModal orderId="REACT-MODAL" total={PRICE} onClose={() => setOpen(false)} />}
      <ul id="events">{events.map((e, i) => <li key={i}>{e}</li>)}</ul>
    </main>
  );
}
