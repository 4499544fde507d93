<?php

namespace App\Jobs;

use App\Support\Recorder;
use Illuminate\Bus\Queueable;
use Illuminate\Contracts\Queue\ShouldQueue;
use Illuminate\Queue\InteractsWithQueue;
use Illuminate\Support\Carbon;

/** WithOptions is the fixtures' class: every retry-policy option, retryUntil() as a method (now + 3600). */
class WithOptions implements ShouldQueue
{
    use InteractsWithQueue, Queueable;

    public $tries = 5;
    public $backoff = [10, 30, 60];
    public $maxExceptions = 2;
    public $timeout = 120;
    public $failOnTimeout = true;

    public function retryUntil()
    {
        return Carbon::now()->addSeconds(3600);
    }

    public function handle()
    {
        Recorder::object($this, 'ok');
    }
}
