<?php
// STAND-IN for the executor tests, NOT ThinkPHP / think-queue code (see testdata/thinkphp/README.md): ThinkPHP 6/8's
// think\App shape: VERSION, getNamespace(), make(), getRootPath()/getRuntimePath(), $app->env and $app->config,
// initialize() loading the root's .env, every config/*.php under its file name, and app/event.php into $app->event.
namespace think;

class App
{
    const VERSION = '8-standin';

    /** @var Event */
    public $event;

    /** @var Env */
    public $env;

    /** @var Config */
    public $config;

    /** @var App the app env() reads */
    public static $instance;

    private $root;

    public function __construct($root = '')
    {
        $this->root = rtrim($root, '/') . '/';
        $this->event = new Event();
        $this->env = new Env();
        $this->config = new Config();
        self::$instance = $this;
    }

    public function initialize()
    {
        if (is_file($this->root . '.env')) {
            $this->env->load($this->root . '.env');
        }
        foreach (glob($this->root . 'config/*.php') ?: [] as $file) {
            $this->config->load($file, pathinfo($file, PATHINFO_FILENAME));
        }
        $this->event->listenEvents((include $this->root . 'app/event.php')['listen'] ?? []);
        return $this;
    }

    public function getRootPath()
    {
        return $this->root;
    }

    public function getRuntimePath()
    {
        return $this->root . 'runtime/';
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
