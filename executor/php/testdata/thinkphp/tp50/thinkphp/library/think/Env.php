<?php
// STAND-IN for the executor tests, NOT ThinkPHP / think-queue code (see testdata/thinkphp/README.md): ThinkPHP 5.0's
// think\Env shape: get('a.b') is the environment's PHP_A_B ("true"/"false" as booleans), else the default.
namespace think;

class Env
{
    public static function get($name, $default = null)
    {
        $v = getenv(ENV_PREFIX . strtoupper(str_replace('.', '_', $name)));
        if ($v === false) {
            return $default;
        }
        return ['true' => true, 'false' => false][$v] ?? $v;
    }
}
