<?php

namespace App\Jobs;

use App\Support\Recorder;
use Illuminate\Bus\Queueable;
use Illuminate\Contracts\Queue\ShouldQueue;
use Illuminate\Queue\InteractsWithQueue;
use RuntimeException;
use Throwable;

/** FailsWithBackoff is the fixtures' class: tries 3, backoff [10, 30], handle() always throws. */
class FailsWithBackoff implements ShouldQueue
{
    use InteractsWithQueue, Queueable;

    public $tries = 3;
    public $backoff = [10, 30];

    public function handle()
    {
        Recorder::object($this, 'throw');
        throw new RuntimeException('boom');
    }

    public function failed(Throwable $e)
    {
        Recorder::object($this, 'failed', ['exception' => get_class($e) . ': ' . $e->getMessage()]);
    }
}
