<?php

namespace App\Support;

use Illuminate\Contracts\Queue\Job;

/**
 * Recorder appends one JSON line per job execution to a Redis list, so tests can count what ran, how often
 * and with which data. The list key is used as is (no Laravel prefix; it goes through a plain phpredis client
 * on REDIS_HOST/PORT/DB): the job's own `log` property (or string job data `log`), else the key work.php got
 * with --record. No key: nothing is written.
 *
 * A record: {"runner":"laravel","pid","t","class","outcome":"ok"|"throw"|"release"|"failed","uuid","id",
 *            "attempts","queue","connection","props" (object jobs) | "data" (string jobs), +extra}
 */
final class Recorder
{
    /** @var string|null the default list key (work.php --record) */
    public static $defaultKey = null;

    /** @var \Redis|null */
    private static $redis = null;

    public static function object(object $command, string $outcome, array $extra = []): void
    {
        $job = property_exists($command, 'job') ? $command->job : null;
        $key = $command->log ?? self::$defaultKey;
        self::write($key, get_class($command), $job, $outcome, ['props' => Props::of($command)] + $extra);
    }

    public static function string(string $class, ?Job $job, $data, string $outcome, array $extra = []): void
    {
        $key = (is_array($data) ? ($data['log'] ?? null) : null) ?? self::$defaultKey;
        self::write($key, $class, $job, $outcome, ['data' => $data] + $extra);
    }

    private static function write(?string $key, string $class, ?Job $job, string $outcome, array $what): void
    {
        if ($key === null || $key === '') {
            return;
        }
        $rec = [
            'runner' => 'laravel',
            'pid' => getmypid(),
            't' => microtime(true),
            'class' => $class,
            'outcome' => $outcome,
            'uuid' => $job ? $job->uuid() : null,
            'id' => $job ? $job->getJobId() : null,
            'attempts' => $job ? $job->attempts() : null,
            'queue' => $job ? $job->getQueue() : null,
            'connection' => $job ? $job->getConnectionName() : null,
        ];
        $rec = array_replace($rec, $what);
        self::redis()->rPush($key, Out::json($rec));
    }

    private static function redis(): \Redis
    {
        if (self::$redis === null) {
            $r = new \Redis();
            $r->connect(getenv('REDIS_HOST') ?: '127.0.0.1', (int)(getenv('REDIS_PORT') ?: 6379));
            if (($pw = getenv('REDIS_PASSWORD')) !== false && $pw !== '') {
                $r->auth($pw);
            }
            $r->select((int)(getenv('REDIS_DB') ?: 0));
            self::$redis = $r;
        }
        return self::$redis;
    }
}
