<?php
// STAND-IN for the executor tests, NOT ThinkPHP / think-queue code (see testdata/thinkphp/README.md): ThinkPHP 5.0's
// think\App shape: the static app namespace, and initCommon() loading APP_PATH/tags.php into the Hook.
namespace think;

class App
{
    public static $namespace = 'app';

    public static function initCommon()
    {
        Hook::import(include APP_PATH . 'tags.php');
    }
}
