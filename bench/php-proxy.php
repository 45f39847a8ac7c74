<?php
// The straightforward proxy a merchant would write from PayDigital's PHP cURL sample, for
// comparison only: every status read goes upstream, nothing is cached or coalesced.
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
if (preg_match('#^/api/payments/([A-Za-z0-9]+)$#', $path, $m)) {
    $ch = curl_init(getenv('UPSTREAM') . '/api/payment.php?invoice=' . urlencode($m[1]));
    curl_setopt($ch, CURLOPT_RETURNTRANSFER, true);
    curl_setopt($ch, CURLOPT_HTTPHEADER, ['Authorization: Bearer ' . getenv('API_KEY')]);
    curl_setopt($ch, CURLOPT_TIMEOUT, 10);
    $body = curl_exec($ch);
    curl_close($ch);
    $reply = json_decode($body, true);
    header('Content-Type: application/json');
    echo json_encode([
        'invoice' => $reply['data']['invoice'] ?? null,
        'status' => $reply['data']['status'] ?? null,
        'total_amount' => $reply['data']['total_amount'] ?? null,
    ]);
    return;
}
http_response_code(404);
echo '{"error":{"code":"not_found","message":"no such route"}}';
