<?php

namespace App\Jobs;

use App\Support\Recorder;
use Illuminate\Contracts\Queue\Job;
use RuntimeException;
use Throwable;

/**
 * Legacy is the string-job handler `App\Jobs\Legacy@handle` (payload "job":"App\\Jobs\\Legacy@handle", data
 * as pushed). Like any string-job handler it must delete the job itself. data.failTimes makes attempts up to
 * that number throw. Records go to data.log (raw key) or work.php --record.
 */
class Legacy
{
    public function handle(Job $job, $data)
    {
        $a = $job->attempts();
        if (is_array($data) && $a <= (int)($data['failTimes'] ?? 0)) {
            Recorder::string(self::class, $job, $data, 'throw');
            throw new RuntimeException(sprintf('Legacy %s fails on attempt %d', $data['n'] ?? '?', $a));
        }
        Recorder::string(self::class, $job, $data, 'ok');
        $job->delete();
    }

    public function failed($data, Throwable $e, string $uuid)
    {
        Recorder::string(self::class, null, $data, 'failed', [
            'uuid' => $uuid,
            'exception' => get_class($e) . ': ' . $e->getMessage(),
        ]);
    }
}
