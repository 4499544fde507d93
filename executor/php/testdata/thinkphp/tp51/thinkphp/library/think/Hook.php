<?php
// STAND-IN for the executor tests, NOT ThinkPHP / think-queue code (see testdata/thinkphp/README.md): ThinkPHP 5.1's
// think\Hook shape (an instance, reached through think\facade\Hook): tags to behaviour classes' run($params).
namespace think;

class Hook
{
    private $tags = [];

    public function import(array $tags)
    {
        foreach ($tags as $tag => $list) {
            $this->tags[$tag] = array_merge($this->tags[$tag] ?? [], $list);
        }
    }

    public function listen($tag, $params = null)
    {
        $results = [];
        foreach ($this->tags[$tag] ?? [] as $class) {
            $results[] = (new $class())->run($params);
        }
        return $results;
    }
}
