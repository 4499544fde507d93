<?php
// STAND-IN for the executor tests, NOT ThinkPHP / think-queue code (see testdata/thinkphp/README.md): think-queue 3.x's
// abstract think\queue\Job shape: fire() and failed($e) resolve the handler as spec'd in shared/specs/thinkqueue.md
// §1.6 for 3.0.7+ (bare name: getNamespace()\job\Studly(Name), a new instance given $data).
namespace think\queue;

abstract class Job
{
    private $instance;
    protected $app;
    protected $queue;
    protected $connection;
    protected $deleted = false;
    protected $released = false;
    protected $failed = false;

    abstract public function getJobId();

    abstract public function attempts();

    abstract public function getRawBody();

    public function payload($name = null)
    {
        $payload = json_decode($this->getRawBody(), true);
        return $name === null ? $payload : ($payload[$name] ?? null);
    }

    public function fire()
    {
        [, $method] = $this->split();
        $this->handler()->{$method}($this, $this->payload('data'));
    }

    public function failed($e)
    {
        $handler = $this->handler();
        if (method_exists($handler, 'failed')) {
            $handler->failed($this->payload('data'), $e);
        }
    }

    public function delete()
    {
        $this->deleted = true;
    }

    public function isDeleted()
    {
        return $this->deleted;
    }

    public function release($delay = 0)
    {
        $this->released = true;
    }

    public function isReleased()
    {
        return $this->released;
    }

    public function hasFailed()
    {
        return $this->failed;
    }

    public function markAsFailed()
    {
        $this->failed = true;
    }

    public function getName()
    {
        return $this->payload('job');
    }

    public function getConnection()
    {
        return $this->connection;
    }

    public function getQueue()
    {
        return $this->queue;
    }

    private function split()
    {
        $parts = explode('@', $this->payload('job'));
        return [$parts[0], $parts[1] ?? 'fire'];
    }

    private function handler()
    {
        if ($this->instance === null) {
            [$name] = $this->split();
            if (strpos($name, '\\') === false) {
                $name = $this->app->getNamespace() . '\\job\\' . str_replace(' ', '', ucwords(str_replace(['-', '_'], ' ', $name)));
            }
            $this->instance = $this->app->make($name, [$this->payload('data')], true);
        }
        return $this->instance;
    }
}
