<?php
// STAND-IN for the executor tests, NOT ThinkPHP / think-queue code (see testdata/thinkphp/README.md): ThinkPHP 5.1's
// think\facade\Hook shape: static calls go to the container's Hook.
namespace think\facade;

class Hook
{
    public static function __callStatic($method, $args)
    {
        return \think\Container::get('hook')->$method(...$args);
    }
}
