<?php

namespace App\Jobs;

use Illuminate\Bus\Queueable;
use Illuminate\Contracts\Queue\ShouldQueue;
use Illuminate\Queue\InteractsWithQueue;

/** Noop does nothing (benchmarks); `pad` makes its payload about the size of the think-queue bench jobs. */
class Noop implements ShouldQueue
{
    use InteractsWithQueue, Queueable;

    public $pad;

    public function __construct(string $pad = '')
    {
        $this->pad = $pad;
    }

    public static function forTest(int $n): self
    {
        return new self(str_repeat('x', 128));
    }

    public function handle()
    {
    }
}
