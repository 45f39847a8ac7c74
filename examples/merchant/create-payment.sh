# Create a payment for order ORDER-1001; the answer's checkout_url is where the customer pays.
curl -sS -X POST "$PROXY_URL/api/merchant/payments" \
  -H "Authorization: Bearer $CHECKOUT_MERCHANT_KEY" \
  -H "Content-Type: application/json" \
  -H "Idempotency-Key: order-ORDER-1001" \
  -d '{"amount": 125000, "reference": "ORDER-1001", "description": "Pesanan ORDER-1001",
       "customer_name": "Budi", "metadata": {"cart": "c_81"}}'
