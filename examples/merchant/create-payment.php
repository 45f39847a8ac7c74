<?php
// PHP (WooCommerce, Laravel, plain PHP): create a payment with cURL.
$order = ['id' => 'ORDER-1003', 'total' => 150000, 'customer_name' => 'Andi'];

$ch = curl_init(getenv('PROXY_URL') . '/api/merchant/payments');
curl_setopt_array($ch, [
    CURLOPT_POST => true,
    CURLOPT_RETURNTRANSFER => true,
    CURLOPT_TIMEOUT => 30,
    CURLOPT_HTTPHEADER => [
        'Authorization: Bearer ' . getenv('CHECKOUT_MERCHANT_KEY'),
        'Content-Type: application/json',
        'Idempotency-Key: order-' . $order['id'],
    ],
    CURLOPT_POSTFIELDS => json_encode([
        'amount' => $order['total'],
        'reference' => $order['id'],
        'customer_name' => $order['customer_name'],
    ]),
]);
$body = curl_exec($ch);
$status = curl_getinfo($ch, CURLINFO_RESPONSE_CODE);
curl_close($ch);
$payment = json_decode($body, true);
if ($status !== 201) {
    throw new RuntimeException($payment['error']['message'] ?? 'payment failed');
}
header('Location: ' . $payment['checkout_url'], true, 303); // to the hosted checkout page
