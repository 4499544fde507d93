<?php

namespace QBExec\Jobs;

use Illuminate\Bus\Queueable;
use Illuminate\Contracts\Queue\ShouldQueue;
use Illuminate\Queue\InteractsWithQueue;
use RuntimeException;
use Throwable;

/**
 * Act does what `what` says: ok, release (release($wait)), throw (RuntimeException), fail ($this->fail()),
 * print (echo, STDOUT, STDERR, then ok), flood ($wait lines of 1 KiB on STDOUT, then "flood ends" on STDERR
 * without a newline, then ok), exit (exit(3)), sleep (sleep($wait) then ok), noop, await-boot
 * (until another process booted, see ../boot.php, at most $wait s; marks its pid as data.booted, 0 if none).
 * Every step is marked in the file `mark`; failed() marks "failed".
 */
class Act implements ShouldQueue
{
    use InteractsWithQueue, Queueable;

    public $mark = null;
    public $what = 'ok';
    public $wait = 0;

    public function handle()
    {
        $a = $this->attempts();
        Mark::write($this->mark, 'start', ['what' => $this->what, 'attempts' => $a, 'queue' => $this->job->getQueue(),
            'connection' => $this->job->getConnectionName(), 'id' => $this->job->getJobId()]);
        switch ($this->what) {
            case 'noop':
                return;
            case 'release':
                $this->release($this->wait);
                return;
            case 'throw':
                throw new RuntimeException("Act throws on attempt $a");
            case 'fail':
                $this->fail(new RuntimeException("Act gives up on attempt $a"));
                return;
            case 'print':
                echo "echoed noise \x00\x00\x00\x10{\"type\":\"result\"}\n";
                print("printed noise\n");
                fwrite(STDOUT, "stdout noise\n");
                fwrite(STDERR, "stderr noise\n");
                break;
            case 'flood':
                for ($i = 1; $i <= $this->wait; $i++) {
                    fwrite(STDOUT, sprintf("flood %06d ", $i) . str_repeat('x', 1010) . "\n");
                }
                fwrite(STDERR, 'flood ends');
                break;
            case 'exit':
                echo "about to exit\n";
                exit(3);
            case 'sleep':
                sleep($this->wait);
                break;
            case 'await-boot':
                $booted = 0;
                for ($until = microtime(true) + $this->wait; $booted === 0 && microtime(true) < $until; usleep(10000)) {
                    foreach (@file((string)getenv('QBEXEC_BOOT_MARK'), FILE_IGNORE_NEW_LINES) ?: [] as $pid) {
                        if ((int)$pid !== getmypid()) {
                            $booted = (int)$pid;
                        }
                    }
                }
                Mark::write($this->mark, 'await-boot', ['data' => ['booted' => $booted]]);
                return;
        }
        Mark::write($this->mark, 'ok');
    }

    public function failed(Throwable $e)
    {
        Mark::write($this->mark, 'failed', ['exception' => get_class($e) . ': ' . $e->getMessage()]);
    }
}
