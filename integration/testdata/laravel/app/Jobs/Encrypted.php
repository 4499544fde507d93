<?php

namespace App\Jobs;

use App\Support\Recorder;
use Illuminate\Bus\Queueable;
use Illuminate\Contracts\Queue\ShouldBeEncrypted;
use Illuminate\Contracts\Queue\ShouldQueue;
use Illuminate\Queue\InteractsWithQueue;

/** Encrypted is the fixtures' ShouldBeEncrypted job (APP_KEY, AES-256-CBC). */
class Encrypted implements ShouldQueue, ShouldBeEncrypted
{
    use InteractsWithQueue, Queueable;

    public $secret = 'top secret 秘密';

    public function handle()
    {
        Recorder::object($this, 'ok');
    }
}
