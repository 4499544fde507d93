<?php
// STAND-IN for the executor tests, NOT ThinkPHP / think-queue code (see testdata/thinkphp/README.md): think-queue 2.x's
// abstract think\queue\Job shape: what the runner and the test job use, resolution as spec'd in
// shared/specs/thinkqueue.md §1.6 (bare name: <app namespace>\job\Name; module/Name: app\module\job\Name).
namespace think\queue;


abstract class Job
{
    protected $instance;
    protected $queue;
    protected $deleted = false;
    protected $released = false;

    abstract public function fire();

    abstract public function attempts();

    abstract public function getRawBody();

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

    public function getQueue()
    {
        return $this->queue;
    }

    public function getName()
    {
        return json_decode($this->getRawBody(), true)['job'];
    }

    protected function resolveAndFire(array $payload)
    {
        [$class, $method] = $this->split($payload['job']);
        $this->instance = $this->locate($class);
        if ($this->instance) {
            $this->instance->{$method}($this, $payload['data']);
        }
    }

    public function failed()
    {
        $payload = json_decode($this->getRawBody(), true);
        [$class] = $this->split($payload['job']);
        $this->instance = $this->locate($class);
        if ($this->instance && method_exists($this->instance, 'failed')) {
            $this->instance->failed($payload['data']);
        }
    }

    private function split($job)
    {
        $parts = explode('@', $job);
        return [$parts[0], $parts[1] ?? 'fire'];
    }

    private function locate($name)
    {
        if (strpos($name, '\\') === false) {
            $module = '';
            if (strpos($name, '/') !== false) {
                [$module, $name] = explode('/', $name, 2);
            }
            $name = \think\Container::get('app')->getNamespace() . ($module === '' ? '' : '\\' . strtolower($module)) . '\\job\\' . $name;
        }
        return class_exists($name) ? new $name() : null;
    }
}
