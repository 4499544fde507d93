<?php

namespace App\Jobs;

use App\Support\Recorder;
use Illuminate\Bus\Queueable;
use Illuminate\Contracts\Queue\ShouldQueue;
use Illuminate\Queue\InteractsWithQueue;

/** ObjectProps is the fixtures' class of the same name (INDEX.md): every scalar type, nesting, unicode, visibility. */
class ObjectProps implements ShouldQueue
{
    use InteractsWithQueue, Queueable;

    public $name = "张三 / O'Brien \"q\" <b>&amp; \\ tab\t nl\n 😀";
    public $tags = ['a' => [1, 2.5, true, null], 'b' => [], 'c' => ['d' => ['e' => 'deep']]];
    public $ratio = 0.1;
    public $whole = 2.0;
    public $count = 42;
    public $neg = -7;
    public $flag = true;
    public $off = false;
    public $nothing = null;
    protected $format = 'pdf';
    private $secret = 's3cr3t';

    public function handle()
    {
        Recorder::object($this, 'ok');
    }
}
