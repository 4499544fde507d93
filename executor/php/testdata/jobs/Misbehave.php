<?php

namespace QBExec\Jobs;

use App\Support\Recorder;
use Illuminate\Bus\Queueable;
use Illuminate\Contracts\Queue\ShouldQueue;
use Illuminate\Queue\InteractsWithQueue;

/**
 * Misbehave records (App\Support\Recorder, into the Redis list `log`) like App\Jobs\Record, and misbehaves as
 * `what` says: print (echo, print, STDOUT, STDERR, then "ok"), leak (keeps `mb` MB in a static, then "ok"
 * with the memory in use), exit ("start", then exit(3)).
 */
class Misbehave implements ShouldQueue
{
    use InteractsWithQueue, Queueable;

    /** @var string[] what leak keeps */
    public static $kept = [];

    public $log = null;
    public $what = 'print';
    public $mb = 64;

    public function handle()
    {
        switch ($this->what) {
            case 'print':
                echo "misbehave echoed\n";
                print("misbehave printed\n");
                fwrite(STDOUT, "misbehave stdout\n");
                fwrite(STDERR, "misbehave stderr\n");
                break;
            case 'leak':
                self::$kept[] = str_repeat('x', $this->mb << 20);
                Recorder::object($this, 'ok', ['memory' => memory_get_usage(true)]);
                return;
            case 'exit':
                Recorder::object($this, 'start');
                echo "misbehave exits\n";
                exit(3);
        }
        Recorder::object($this, 'ok');
    }
}
