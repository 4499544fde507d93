<?php

namespace App\Jobs;

use App\Support\Recorder;
use Illuminate\Bus\Queueable;
use Illuminate\Contracts\Queue\ShouldQueue;
use Illuminate\Queue\InteractsWithQueue;
use RuntimeException;
use Throwable;

/** Fails is the fixtures' class: tries 1, handle() throws RuntimeException('boom'). */
class Fails implements ShouldQueue
{
    use InteractsWithQueue, Queueable;

    public $tries = 1;

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
