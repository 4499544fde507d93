<?php

namespace App\Jobs;

use App\Support\Recorder;
use Illuminate\Bus\Queueable;
use Illuminate\Contracts\Queue\ShouldQueue;
use Illuminate\Queue\InteractsWithQueue;
use RuntimeException;
use Throwable;

/**
 * FailsManually fails itself from handle() with $this->fail($e), tries left or not (the cross-tests'
 * "fail from inside the job"): attempts before failAt throw RuntimeException("FailsManually <n> throws on
 * attempt <a>") and are retried; attempt failAt records "fail" and calls
 * $this->fail(new RuntimeException("FailsManually <n> gives up on attempt <a>")). failed() records "failed".
 * Records go to the `log` property's Redis list (raw key), else work.php --record.
 */
class FailsManually implements ShouldQueue
{
    use InteractsWithQueue, Queueable;

    public $log = null;
    public $n = 0;
    public $failAt = 1;
    public $tries = 5;

    public static function forTest(int $n): self
    {
        $j = new self();
        $j->n = $n;
        return $j;
    }

    public function handle()
    {
        $a = $this->attempts();
        if ($a < $this->failAt) {
            Recorder::object($this, 'throw');
            throw new RuntimeException(sprintf('FailsManually %d throws on attempt %d', $this->n, $a));
        }
        Recorder::object($this, 'fail');
        $this->fail(new RuntimeException(sprintf('FailsManually %d gives up on attempt %d', $this->n, $a)));
    }

    public function failed(Throwable $e)
    {
        Recorder::object($this, 'failed', ['exception' => get_class($e) . ': ' . $e->getMessage()]);
    }
}
