<?php
// STAND-IN for the executor tests, NOT ThinkPHP / think-queue code (see testdata/thinkphp/README.md): ThinkPHP 5.1's
// base file shape: it registers think\Loader, which finds the app (and Composer's packages) from the running script,
// and the env() helper. (5.1 keeps its version in think\App::VERSION)
require __DIR__ . '/library/think/Loader.php';

\think\Loader::register();

if (!function_exists('env')) {
    function env($name, $default = null)
    {
        return \think\Container::get('env')->get($name, $default);
    }
}
