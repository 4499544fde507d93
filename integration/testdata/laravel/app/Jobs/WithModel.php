<?php

namespace App\Jobs;

use App\Models\User;
use App\Support\Recorder;
use Illuminate\Bus\Queueable;
use Illuminate\Contracts\Queue\ShouldQueue;
use Illuminate\Queue\InteractsWithQueue;
use Illuminate\Queue\SerializesModels;

/**
 * WithModel is the fixtures' SerializesModels job: `user` (User #42) and `users` (collection #42, #43) are
 * serialized as Illuminate\Contracts\Database\ModelIdentifier and restored from sqlite when the job runs.
 */
class WithModel implements ShouldQueue
{
    use InteractsWithQueue, Queueable, SerializesModels;

    public $user;
    public $users;
    public $note = 'héllo';

    public function __construct($user, $users)
    {
        $this->user = $user;
        $this->users = $users;
    }

    public static function forTest(int $n): self
    {
        return new self(User::findOrFail(42), User::findMany([42, 43]));
    }

    public function handle()
    {
        Recorder::object($this, 'ok');
    }
}
