<?php
// STAND-IN for the executor tests, NOT ThinkPHP / think-queue code (see testdata/thinkphp/README.md): ThinkPHP 5.0's
// static think\Hook shape: tags to behaviour classes, whose run(&$params) listen() calls.
namespace think;

class Hook
{
    private static $tags = [];

    public static function import(array $tags)
    {
        foreach ($tags as $tag => $list) {
            self::$tags[$tag] = array_merge(self::$tags[$tag] ?? [], $list);
        }
    }

    public static function listen($tag, &$params = null)
    {
        $results = [];
        foreach (self::$tags[$tag] ?? [] as $class) {
            $results[] = (new $class())->run($params);
        }
        return $results;
    }
}
