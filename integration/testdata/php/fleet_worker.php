<?php
// fleet_worker.php: a stand-in for think-queue's Redis worker (`php think queue:work`), for the mixed-fleet
// tests. The real library cannot be installed here, so this script sends the command sequence the golden
// fixtures pin (shared/fixtures/thinkqueue/v{1,3}/redis/*.json, `redis_commands_by_worker`), nothing more:
//
//   pop, v1 (think-queue 1.1.6 connector\Redis::pop):
//     WATCH D; ZRANGEBYSCORE D -inf now; [MULTI; ZREMRANGEBYSCORE D -inf now; RPUSH Q j1..jn; EXEC]; UNWATCH
//     WATCH R; ZRANGEBYSCORE R -inf now; [MULTI; ZREMRANGEBYSCORE R -inf now; RPUSH Q setMeta(attempts+1)...; EXEC]; UNWATCH
//     LPOP Q; ZADD R now+expire <raw>
//   pop, v3 (think-queue 3.0.9): the same migrations without the rewrite, removing with
//     ZREMRANGEBYRANK from 0 n-1 and pushing in RPUSH chunks of 100; keys {queues:<q>};
//     LPOP Q; ZADD R now+retry_after json_encode(json_decode(raw, true) with attempts+1)
//   the job (test\Record, data {"log":"<list>"}): RPUSH <list> <id>; then delete(): ZREM R <raw> (v1) or
//     ZREM R <reserved copy> (v3).
//
// It loops until the queue has stayed empty for --idle seconds, then prints one JSON line:
// {"processed":N,"first":<microtime of the first pop>,"last":<microtime the last job was deleted>,"ids":[...]}.
//
// usage: php fleet_worker.php --host H --port P --db N --queue Q --dialect v1|v3 [--expire 60] [--idle 1]
//        [--sleep 0.05] [--no-ids]

$opt = getopt('', ['host:', 'port:', 'db:', 'queue:', 'dialect:', 'expire:', 'idle:', 'sleep:', 'no-ids']);
foreach (['host', 'port', 'db', 'queue', 'dialect'] as $k) {
    if (!isset($opt[$k])) {
        fwrite(STDERR, "fleet_worker: --$k is required\n");
        exit(2);
    }
}
$v3 = $opt['dialect'] === 'v3';
if (!$v3 && $opt['dialect'] !== 'v1') {
    fwrite(STDERR, "fleet_worker: --dialect must be v1 or v3\n");
    exit(2);
}
$expire = (int)($opt['expire'] ?? 60);
$idle = (float)($opt['idle'] ?? 1.0);
$sleepUs = (int)(1e6 * (float)($opt['sleep'] ?? 0.05));
$withIds = !isset($opt['no-ids']);

$redis = new Redis();
$redis->connect($opt['host'], (int)$opt['port'], 0);
if ((int)$opt['db'] !== 0) {
    $redis->select((int)$opt['db']);
}

$queue = $v3 ? '{queues:' . $opt['queue'] . '}' : 'queues:' . $opt['queue'];
$delayed = $queue . ':delayed';
$reserved = $queue . ':reserved';

// think-queue v1 Redis::setMeta: a json_decode / json_encode round trip.
function setMeta(string $payload, string $key, $value): string
{
    $p = json_decode($payload, true);
    $p[$key] = $value;
    return json_encode($p);
}

// migrateExpiredJobs($from, $to, $attempt): v1 rewrites attempts when $attempt (the reserved set), v3 never.
function migrate(Redis $redis, bool $v3, string $from, string $to, bool $attempt): void
{
    $redis->watch($from);
    $now = time();
    $jobs = $redis->zRangeByScore($from, '-inf', (string)$now);
    if (is_array($jobs) && count($jobs) > 0) {
        if (!$v3 && $attempt) {
            foreach ($jobs as &$job) {
                $job = setMeta($job, 'attempts', json_decode($job, true)['attempts'] + 1);
            }
            unset($job);
        }
        $redis->multi();
        try {
            if ($v3) {
                $redis->zRemRangeByRank($from, 0, count($jobs) - 1);
                foreach (array_chunk($jobs, 100) as $chunk) {
                    $redis->rPush($to, ...$chunk);
                }
            } else {
                $redis->zRemRangeByScore($from, '-inf', (string)$now);
                $redis->rPush($to, ...$jobs);
            }
            if (!$redis->exec()) {
                // A WATCH conflict: nothing migrated this round (think-queue calls discard, harmlessly).
                try { $redis->discard(); } catch (Throwable $e) {}
            }
        } catch (Throwable $e) {
            try { $redis->discard(); } catch (Throwable $e2) {}
        }
    }
    $redis->unwatch();
}

// pop returns [raw, member held in :reserved] or null when the list is empty.
function pop(Redis $redis, bool $v3, string $queue, string $delayed, string $reserved, int $expire): ?array
{
    migrate($redis, $v3, $delayed, $queue, false);
    migrate($redis, $v3, $reserved, $queue, true);
    $raw = $redis->lPop($queue);
    if ($raw === false || $raw === null) {
        return null;
    }
    $held = $raw;
    if ($v3) {
        $p = json_decode($raw, true);
        $p['attempts']++;
        $held = json_encode($p);
    }
    $redis->zAdd($reserved, time() + $expire, $held);
    return [$raw, $held];
}

$processed = 0;
$ids = [];
$first = null;
$last = null;
$lastWork = microtime(true);
while (true) {
    $got = pop($redis, $v3, $queue, $delayed, $reserved, $expire);
    if ($got === null) {
        if (microtime(true) - $lastWork >= $idle) {
            break;
        }
        usleep($sleepUs);
        continue;
    }
    if ($first === null) {
        $first = microtime(true);
    }
    [$raw, $held] = $got;
    $payload = json_decode($raw, true);
    if (($payload['job'] ?? null) !== 'test\\Record' || !isset($payload['data']['log'])) {
        fwrite(STDERR, "fleet_worker: unexpected job: $raw\n");
        exit(1);
    }
    // fire(): the job's own work, then $job->delete().
    $redis->rPush($payload['data']['log'], $payload['id']);
    $redis->zRem($reserved, $held);
    $processed++;
    if ($withIds) {
        $ids[] = $payload['id'];
    }
    $last = microtime(true);
    $lastWork = $last;
}
echo json_encode(['processed' => $processed, 'first' => $first, 'last' => $last, 'ids' => $ids]), "\n";
