// Node 18+: create a payment for an order, then send the customer to checkout_url.
const order = { id: "ORDER-1002", total: 87500, customerName: "Siti" };

const response = await fetch(`${process.env.PROXY_URL}/api/merchant/payments`, {
  method: "POST",
  headers: {
    Authorization: `Bearer ${process.env.CHECKOUT_MERCHANT_KEY}`,
    "Content-Type": "application/json",
    // The same key again (a retry, a double click) gives back the same payment.
    "Idempotency-Key": `order-${order.id}`,
  },
  body: JSON.stringify({
    amount: order.total,
    reference: order.id,
    customer_name: order.customerName,
  }),
});
const payment = await response.json();
if (!response.ok) throw new Error(`${payment.error.code}: ${payment.error.message}`);
console.log(JSON.stringify(payment)); // redirect the customer to payment.checkout_url
