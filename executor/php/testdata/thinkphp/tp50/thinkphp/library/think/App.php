<?php
// STAND-IN for the executor tests, NOT ThinkPHP / think-queue code (see testdata/thinkphp/README.md): ThinkPHP 5.0's
// think\App shape: the static app namespace, and initCommon() loading the app's config as 5.0 does (CONF_PATH
// config.php at the top, database.php as `database`, every extra/*.php under its file name) and APP_PATH/tags.php
// into the Hook.
namespace think;

class App
{
    public static $namespace = 'app';

    public static function initCommon()
    {
        Config::load(CONF_PATH . 'config' . EXT);
        Config::load(CONF_PATH . 'database' . EXT, 'database');
        foreach (glob(CONF_PATH . 'extra/*' . EXT) ?: [] as $file) {
            Config::load($file, pathinfo($file, PATHINFO_FILENAME));
        }
        Hook::import(include APP_PATH . 'tags.php');
    }
}
