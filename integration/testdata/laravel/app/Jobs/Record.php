<?php

namespace App\Jobs;

use App\Support\Recorder;
use Illuminate\Bus\Queueable;
use Illuminate\Contracts\Queue\ShouldQueue;
use Illuminate\Foundation\Bus\Dispatchable;
use Illuminate\Queue\InteractsWithQueue;
use RuntimeException;
use Throwable;

/**
 * Record is the cross-tests' workhorse. Every execution appends a record to the Redis list `log` (raw key, see
 * App\Support\Recorder) with the job's uuid, id, attempts and properties, so a test can count who ran what.
 *
 * Data (varies with n, so each job is distinguishable): n, name (unicode, quotes, HTML, tab, newline, emoji),
 * tags (nested arrays, int/float/bool/null, an empty array), ratio (float), whole (2.0), flag (bool), nothing
 * (null), protected format, private secret.
 *
 * Behaviour, on attempt a = attempts(): sleepMs first (recorded as outcome "start"); a <= failTimes → record
 * "throw" and throw RuntimeException; a <= failTimes + releaseTimes → record "release" and release(releaseDelay);
 * else record "ok". failed() records "failed".
 *
 * Retry policy: tries, backoff (int or array), maxExceptions, timeout, failOnTimeout, retryUntil (unix seconds);
 * null (the default) leaves the payload key null, as a job class without the property would.
 */
class Record implements ShouldQueue
{
    use Dispatchable, InteractsWithQueue, Queueable;

    public $log = null;
    public $n = 0;
    public $name = '';
    public $tags = [];
    public $ratio = 0.0;
    public $whole = 2.0;
    public $flag = false;
    public $nothing = null;
    protected $format = 'pdf';
    private $secret = '';

    public $failTimes = 0;
    public $releaseTimes = 0;
    public $releaseDelay = 0;
    public $sleepMs = 0;

    public $tries = null;
    public $backoff = null;
    public $maxExceptions = null;
    public $timeout = null;
    public $failOnTimeout = null;
    public $retryUntil = null;

    public static function forTest(int $n): self
    {
        $j = new self();
        $j->n = $n;
        $j->name = "张三 #$n / O'Brien \"q\" <b>&amp; \\ tab\t nl\n 😀";
        $j->tags = ['n' => $n, 'a' => [1, 2.5, true, null], 'b' => [], 'c' => ['d' => ['e' => "deep-$n"]]];
        $j->ratio = $n + 0.25;
        $j->flag = $n % 2 === 0;
        $j->secret = "s3cr3t-$n";
        return $j;
    }

    public function handle()
    {
        if ($this->sleepMs > 0) {
            Recorder::object($this, 'start');
            usleep($this->sleepMs * 1000);
        }
        $a = $this->attempts();
        if ($a <= $this->failTimes) {
            Recorder::object($this, 'throw');
            throw new RuntimeException(sprintf('Record %d fails on attempt %d', $this->n, $a));
        }
        if ($a <= $this->failTimes + $this->releaseTimes) {
            Recorder::object($this, 'release', ['delay' => $this->releaseDelay]);
            $this->release($this->releaseDelay);
            return;
        }
        Recorder::object($this, 'ok');
    }

    public function failed(Throwable $e)
    {
        Recorder::object($this, 'failed', ['exception' => get_class($e) . ': ' . $e->getMessage()]);
    }
}
