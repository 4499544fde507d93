<?php
// fleet_push.php: pushes test\Record jobs as think-queue's Queue::push writes them on Redis, one RPUSH
// each, and prints their ids, one a line.
//
//   v1 (1.1.6): createPayload = json_encode(['job','data']), then setMeta('id'), setMeta('attempts', 1),
//               each a json_decode/json_encode round trip; key queues:<q>; ids [0-9A-Za-z] (think-helper 1.0.7).
//   v3 (3.0.9): json_encode(['job','maxTries'=>null,'timeout'=>null,'data','id','attempts'=>0]);
//               key {queues:<q>}; ids [A-Za-z] (think-helper 3.1.6).
//
// usage: php fleet_push.php --host H --port P --db N --queue Q --dialect v1|v3 --count N --log LIST

$opt = getopt('', ['host:', 'port:', 'db:', 'queue:', 'dialect:', 'count:', 'log:']);
foreach (['host', 'port', 'db', 'queue', 'dialect', 'count', 'log'] as $k) {
    if (!isset($opt[$k])) {
        fwrite(STDERR, "fleet_push: --$k is required\n");
        exit(2);
    }
}
$v3 = $opt['dialect'] === 'v3';

$redis = new Redis();
$redis->connect($opt['host'], (int)$opt['port'], 0);
if ((int)$opt['db'] !== 0) {
    $redis->select((int)$opt['db']);
}

function random_id(bool $lettersOnly): string
{
    $pool = $lettersOnly
        ? 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'
        : '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
    return substr(str_shuffle(str_repeat($pool, 5)), 0, 32);
}

function setMeta(string $payload, string $key, $value): string
{
    $p = json_decode($payload, true);
    $p[$key] = $value;
    return json_encode($p);
}

$key = $v3 ? '{queues:' . $opt['queue'] . '}' : 'queues:' . $opt['queue'];
$data = ['log' => $opt['log']];
$out = '';
for ($i = 0; $i < (int)$opt['count']; $i++) {
    if ($v3) {
        $id = random_id(true);
        $payload = json_encode(['job' => 'test\\Record', 'maxTries' => null, 'timeout' => null, 'data' => $data,
            'id' => $id, 'attempts' => 0]);
    } else {
        $id = random_id(false);
        $payload = json_encode(['job' => 'test\\Record', 'data' => $data]);
        $payload = setMeta($payload, 'id', $id);
        $payload = setMeta($payload, 'attempts', 1);
    }
    $redis->rPush($key, $payload);
    $out .= $id . "\n";
}
echo $out;
