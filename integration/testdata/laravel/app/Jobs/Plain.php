<?php

namespace App\Jobs;

use App\Support\Recorder;
use Illuminate\Bus\Queueable;
use Illuminate\Contracts\Queue\ShouldQueue;
use Illuminate\Foundation\Bus\Dispatchable;
use Illuminate\Queue\InteractsWithQueue;

/** Plain is the fixtures' minimal job: one public int. */
class Plain implements ShouldQueue
{
    use Dispatchable, InteractsWithQueue, Queueable;

    public $n;

    public function __construct($n = 0)
    {
        $this->n = $n;
    }

    public static function forTest(int $n): self
    {
        return new self($n);
    }

    public function handle()
    {
        Recorder::object($this, 'ok');
    }
}
