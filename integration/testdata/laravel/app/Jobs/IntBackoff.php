<?php

namespace App\Jobs;

use App\Support\Recorder;
use Illuminate\Bus\Queueable;
use Illuminate\Contracts\Queue\ShouldQueue;
use Illuminate\Queue\InteractsWithQueue;

/**
 * IntBackoff is the fixtures' class: int backoff, retryUntil as an int property. Its retryUntil (1735790645,
 * 2025-01-02) is in the past, so Laravel's Worker fails it on the first reservation (MaxAttemptsExceeded).
 */
class IntBackoff implements ShouldQueue
{
    use InteractsWithQueue, Queueable;

    public $tries = 3;
    public $backoff = 15;
    public $retryUntil = 1735790645;

    public function handle()
    {
        Recorder::object($this, 'ok');
    }
}
