<?php

namespace QBExec\Jobs;

/** Mark appends one JSON line per event to a file the test reads. */
final class Mark
{
    public static function write(?string $file, string $event, array $extra = []): void
    {
        if ($file === null || $file === '') {
            return;
        }
        file_put_contents($file, json_encode(['event' => $event, 'pid' => getmypid()] + $extra) . "\n", FILE_APPEND | LOCK_EX);
    }
}
