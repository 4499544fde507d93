<?php
// STAND-IN for the executor tests, NOT ThinkPHP / think-queue code (see testdata/thinkphp/README.md): ThinkPHP 5.1's
// think\App shape: VERSION, path(), getRootPath()/getRuntimePath(), initialize() loading the root's .env into the
// Env, every config/*.php into the Config under its file name, and <app path>/tags.php into the Hook instance.
namespace think;

class App
{
    const VERSION = '5.1-standin';

    private $appPath = '';

    public function path($path)
    {
        $this->appPath = $path;
        return $this;
    }

    public function getNamespace()
    {
        return 'app';
    }

    public function getRootPath()
    {
        return dirname(rtrim($this->appPath, '/')) . '/';
    }

    public function getRuntimePath()
    {
        return $this->getRootPath() . 'runtime/';
    }

    public function initialize()
    {
        if (is_file($this->getRootPath() . '.env')) {
            Container::get('env')->load($this->getRootPath() . '.env');
        }
        foreach (glob($this->getRootPath() . 'config/*.php') ?: [] as $file) {
            Container::get('config')->load($file, pathinfo($file, PATHINFO_FILENAME));
        }
        Container::get('hook')->import(include $this->appPath . 'tags.php');
    }
}
