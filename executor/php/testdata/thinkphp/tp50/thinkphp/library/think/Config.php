<?php
// STAND-IN for the executor tests, NOT ThinkPHP / think-queue code (see testdata/thinkphp/README.md): ThinkPHP 5.0's
// static think\Config shape: load(file, name) merges a config file's array at the top (no name) or under name;
// get('a') / get('a.b') read it back (null when absent).
namespace think;

class Config
{
    private static $config = [];

    public static function load($file, $name = '')
    {
        $values = is_file($file) ? include $file : [];
        if ($name === '') {
            self::$config = array_merge(self::$config, $values);
        } else {
            self::$config[$name] = array_merge(self::$config[$name] ?? [], $values);
        }
        return self::$config;
    }

    public static function get($name = null)
    {
        if ($name === null) {
            return self::$config;
        }
        $v = self::$config;
        foreach (explode('.', $name) as $part) {
            if (!is_array($v) || !array_key_exists($part, $v)) {
                return null;
            }
            $v = $v[$part];
        }
        return $v;
    }
}
