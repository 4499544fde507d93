<?php
// The BridgeJob of QueueBridge's ThinkPHP 5.0 and 5.1 runners (think-queue 1.x and 2.x share it): required by
// thinkphp50.php and thinkphp51.php once the app has booted, since it extends the installed library's own
// think\queue\Job.

declare(strict_types=1);

namespace QueueBridge\Runner;

/** BridgeJob is the reserved job as the app's code sees it; the bridge carries out what it records. */
final class BridgeJob extends \think\queue\Job
{
    /** @var int seconds, for release() */
    public $releaseDelay = 0;
    /** @var string */
    private $raw;
    /** @var int */
    private $attemptsSeen;
    /** @var string */
    private $id;
    /** @var string */
    private $connection;

    public function __construct(string $raw, string $queue, string $connection, int $attempts, string $id)
    {
        $this->raw = $raw;
        $this->queue = $queue;
        $this->connection = $connection;
        $this->attemptsSeen = $attempts;
        $this->id = $id;
    }

    public function fire()
    {
        $this->resolveAndFire(json_decode($this->getRawBody(), true));
    }

    public function release($delay = 0)
    {
        parent::release($delay);
        $this->releaseDelay = release_seconds($delay);
    }

    public function attempts()
    {
        return $this->attemptsSeen;
    }

    public function getRawBody()
    {
        return $this->raw;
    }

    public function getJobId()
    {
        return $this->id;
    }

    public function getConnection()
    {
        return $this->connection;
    }
}
