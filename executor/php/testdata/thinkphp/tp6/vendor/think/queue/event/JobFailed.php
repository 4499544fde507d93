<?php
// STAND-IN for the executor tests, NOT ThinkPHP / think-queue code (see testdata/thinkphp/README.md): think-queue 3.x's
// think\queue\event\JobFailed shape.
namespace think\queue\event;

class JobFailed
{
    public $connection;
    public $job;
    public $exception;

    public function __construct($connection, $job, $exception)
    {
        $this->connection = $connection;
        $this->job = $job;
        $this->exception = $exception;
    }
}
