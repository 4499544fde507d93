<?php

namespace QBExec\Jobs;

use Illuminate\Contracts\Queue\Job;

/** Legacy is a string job (QBExec\Jobs\Legacy@handle): marks, then deletes itself unless data.keep. */
class Legacy
{
    public function handle(Job $job, $data)
    {
        Mark::write($data['mark'] ?? null, 'legacy', ['data' => $data, 'attempts' => $job->attempts()]);
        if (empty($data['keep'])) {
            $job->delete();
        }
    }
}
