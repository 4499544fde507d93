<?php
// STAND-IN for the executor tests, NOT ThinkPHP / think-queue code (see testdata/thinkphp/README.md): ThinkPHP 5.1's
// think\App shape: VERSION, path(), initialize() loading <app path>/tags.php into the Hook instance.
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

    public function initialize()
    {
        Container::get('hook')->import(include $this->appPath . 'tags.php');
    }
}
