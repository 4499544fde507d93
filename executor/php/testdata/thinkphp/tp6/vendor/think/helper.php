<?php
// STAND-IN for the executor tests, NOT ThinkPHP / think-queue code (see testdata/thinkphp/README.md): the env() helper.
if (!function_exists('env')) {
    function env($name, $default = null)
    {
        return \think\App::$instance->env->get($name, $default);
    }
}
