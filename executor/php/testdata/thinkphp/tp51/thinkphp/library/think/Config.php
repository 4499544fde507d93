<?php
// STAND-IN for the executor tests, NOT ThinkPHP / think-queue code (see testdata/thinkphp/README.md): ThinkPHP 5.1's
// think\Config shape: load(file, name) keeps a config file's array under name; pull(name) is that array, get('a.b')
// one value (null when absent).
namespace think;

class Config
{
    private $config = [];

    public function load($file, $name)
    {
        $this->config[$name] = array_merge($this->config[$name] ?? [], is_file($file) ? include $file : []);
        return $this->config[$name];
    }

    public function pull($name)
    {
        return $this->config[$name] ?? [];
    }

    public function get($name)
    {
        $v = $this->config;
        foreach (explode('.', $name) as $part) {
            if (!is_array($v) || !array_key_exists($part, $v)) {
                return null;
            }
            $v = $v[$part];
        }
        return $v;
    }
}
