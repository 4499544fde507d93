<?php

namespace App\Support;

use Illuminate\Contracts\Queue\Job;
use Illuminate\Foundation\Application;
use Illuminate\Queue\Events\JobExceptionOccurred;
use Illuminate\Queue\Events\JobFailed;
use Illuminate\Queue\Events\JobProcessed;
use Illuminate\Queue\Events\JobProcessing;
use Illuminate\Queue\Events\Looping;
use Illuminate\Queue\Events\WorkerStopping;

/**
 * EventLog listens to the Worker's events and writes one JSON line per event on stdout:
 *
 *   {"event":"JobProcessing"|"JobProcessed"|"JobExceptionOccurred"|"JobFailed","t","pid","connection","queue",
 *    "id","uuid","attempts","name","class"[,"exception","message"]}
 *   {"event":"JobReleased", …job fields…, "available_at": score of the released copy in <q>:delayed (null when
 *    already migrated), "now"}       — derived: the job was released (by the Worker after an exception, or by
 *                                      itself); logged at the next loop iteration or when the worker stops
 *   {"event":"WorkerStopping","status"}
 *
 * It also counts events, keeps first/last timestamps (bench.php), and implements --drain: stop the worker
 * (Worker::$shouldQuit, checked after the iteration) once every queue it works has size() 0 (list + delayed +
 * reserved) for `grace` seconds.
 */
final class EventLog
{
    public $counts = [];
    public $firstProcessing = null;
    public $lastDone = null;

    private $app;
    private $print;
    private $pending = null;
    private $drainGrace = null;
    private $emptySince = null;

    public function __construct(Application $app, bool $print)
    {
        $this->app = $app;
        $this->print = $print;
    }

    public function drain(float $grace): void
    {
        $this->drainGrace = $grace;
    }

    public function listen(): void
    {
        $events = $this->app['events'];
        $events->listen(JobProcessing::class, function (JobProcessing $e) {
            $this->firstProcessing = $this->firstProcessing ?? microtime(true);
            $this->emit('JobProcessing', $e->job);
        });
        $events->listen(JobProcessed::class, function (JobProcessed $e) {
            $this->lastDone = microtime(true);
            $this->emit('JobProcessed', $e->job);
            $this->pending = $e->job;
        });
        $events->listen(JobExceptionOccurred::class, function (JobExceptionOccurred $e) {
            $this->lastDone = microtime(true);
            $this->emit('JobExceptionOccurred', $e->job, self::exception($e->exception));
            $this->pending = $e->job;
        });
        $events->listen(JobFailed::class, function (JobFailed $e) {
            $this->emit('JobFailed', $e->job, self::exception($e->exception));
        });
        $events->listen(WorkerStopping::class, function (WorkerStopping $e) {
            $this->flushReleased();
            $this->count('WorkerStopping');
            if ($this->print) {
                Out::line(['event' => 'WorkerStopping', 't' => microtime(true), 'pid' => getmypid(), 'status' => $e->status]);
            }
        });
        $events->listen(Looping::class, function (Looping $e) {
            $this->flushReleased();
            if ($this->drainGrace !== null) {
                $this->checkDrained($e->connectionName, $e->queue);
            }
        });
    }

    /** flushReleased logs the previous job if it ended released. */
    public function flushReleased(): void
    {
        $job = $this->pending;
        $this->pending = null;
        if ($job === null || !$job->isReleased() || $job->isDeleted()) {
            return;
        }
        $score = null;
        if (method_exists($job, 'getReservedJob')) {
            $redis = $this->app['redis']->connection(
                $this->app['config']->get('queue.connections.' . $job->getConnectionName() . '.connection', 'default'));
            $s = $redis->zscore('queues:' . $job->getQueue() . ':delayed', $job->getReservedJob());
            $score = ($s === false || $s === null) ? null : (int)$s;
        }
        $this->emit('JobReleased', $job, ['available_at' => $score, 'now' => time()]);
    }

    private function checkDrained(string $connection, string $queues): void
    {
        $conn = $this->app['queue']->connection($connection);
        foreach (explode(',', $queues) as $q) {
            if ($conn->size($q) > 0) {
                $this->emptySince = null;
                return;
            }
        }
        $now = microtime(true);
        $this->emptySince = $this->emptySince ?? $now;
        if ($now - $this->emptySince >= $this->drainGrace) {
            $this->app['queue.worker']->shouldQuit = true;
        }
    }

    private function emit(string $event, Job $job, array $extra = []): void
    {
        $this->count($event);
        if (!$this->print) {
            return;
        }
        $payload = $job->payload();
        Out::line(array_merge([
            'event' => $event,
            't' => microtime(true),
            'pid' => getmypid(),
            'connection' => $job->getConnectionName(),
            'queue' => $job->getQueue(),
            'id' => $job->getJobId(),
            'uuid' => $job->uuid(),
            'attempts' => $job->attempts(),
            'name' => $job->resolveName(),
            'class' => $payload['data']['commandName'] ?? $payload['job'] ?? null,
        ], $extra));
    }

    private function count(string $event): void
    {
        $this->counts[$event] = ($this->counts[$event] ?? 0) + 1;
    }

    private static function exception(?\Throwable $e): array
    {
        return $e === null ? ['exception' => null, 'message' => null]
            : ['exception' => get_class($e), 'message' => $e->getMessage()];
    }
}
