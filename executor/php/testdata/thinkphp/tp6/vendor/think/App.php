<?php
// STAND-IN for the executor tests, NOT ThinkPHP / think-queue code (see testdata/thinkphp/README.md): ThinkPHP 6/8's
// think\App shape: VERSION, getNamespace(), make(), initialize() loading app/event.php into $app->event.
namespace think;

class App
{
    const VERSION = '8-standin';

    /** @var Event */
    public $event;

    private $root;

    public function __construct($root = '')
    {
        $this->root = rtrim($root, '/') . '/';
        $this->event = new Event();
    }

    public function initialize()
    {
        $this->event->listenEvents((include $this->root . 'app/event.php')['listen'] ?? []);
        return $this;
    }

    public function getNamespace()
    {
        return 'app';
    }

    public function make($class, array $vars = [], $newInstance = false)
    {
        if (!class_exists($class)) {
            throw new \RuntimeException('class not exists: ' . $class);
        }
        return new $class(...$vars);
    }
}
