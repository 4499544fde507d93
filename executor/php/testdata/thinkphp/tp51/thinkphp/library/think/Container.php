<?php
// STAND-IN for the executor tests, NOT ThinkPHP / think-queue code (see testdata/thinkphp/README.md): ThinkPHP 5.1's
// think\Container shape: get('app'), get('hook'), get('config') and get('env') are shared instances.
namespace think;

class Container
{
    private static $instances = [];

    public static function get($name)
    {
        $class = ['app' => App::class, 'hook' => Hook::class, 'config' => Config::class, 'env' => Env::class][$name] ?? $name;
        return self::$instances[$class] ??= new $class();
    }
}
