<?php

namespace App\Jobs;

use App\Support\Recorder;
use Illuminate\Bus\Queueable;
use Illuminate\Contracts\Queue\ShouldBeUnique;
use Illuminate\Contracts\Queue\ShouldQueue;
use Illuminate\Foundation\Bus\Dispatchable;
use Illuminate\Queue\InteractsWithQueue;

/** Unique is the fixtures' ShouldBeUnique job: lock laravel_unique_job:App\Jobs\Uniqueu-1 for 3600 s. */
class Unique implements ShouldQueue, ShouldBeUnique
{
    use Dispatchable, InteractsWithQueue, Queueable;

    public $uniqueFor = 3600;

    public function uniqueId()
    {
        return 'u-1';
    }

    public function handle()
    {
        Recorder::object($this, 'ok');
    }
}
