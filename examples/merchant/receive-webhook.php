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
if ($event['type'] === 'payment.paid') {
    // mark_order_paid($event['data']['reference'], $event['data']['total_amount'],
    //                 $event['data']['late']);
}
http_response_code(204); // answer fast: slow work goes to a queue
