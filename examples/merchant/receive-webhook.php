<?php
// PHP: receive the proxy's webhooks (Standard Webhooks), checked with hash_hmac.
$secret = base64_decode(substr(getenv('CHECKOUT_WEBHOOK_SECRET'), strlen('whsec_')));
$id = $_SERVER['HTTP_WEBHOOK_ID'] ?? '';
$timestamp = $_SERVER['HTTP_WEBHOOK_TIMESTAMP'] ?? '';
$body = file_get_contents('php://input');

$expected = 'v1,' . base64_encode(hash_hmac('sha256', "$id.$timestamp.$body", $secret, true));
$valid = false;
foreach (explode(' ', $_SERVER['HTTP_WEBHOOK_SIGNATURE'] ?? '') as $signature) {
    $valid = $valid || hash_equals($expected, $signature);
}
if (!$valid || abs(time() - (int) $timestamp) > 300) { // forged, or replayed later
    http_response_code(400);
    exit;
}
$event = json_decode($body, true);
// A retry carries the same webhook-id: skip what you have handled.
// if (webhook_already_handled($id)) { http_response_code(204); exit; }
$payment = $event['data'];
// Ship only real money your server priced: a "browser" payment's amount was chosen by a
// browser, a sandbox's (livemode false) moved nothing, one marked for review did not fit.
$shippable = $event['livemode'] && $payment['source'] === 'merchant' && $payment['review'] === null;
if ($event['type'] === 'payment.paid' && $shippable) {
    // Compare $payment['total_amount'] with the order's, then:
    // mark_order_paid($payment['reference'], $payment['total_amount'], $payment['late']);
}
http_response_code(204); // answer fast: slow work goes to a queue
