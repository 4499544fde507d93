<?php
// STAND-IN for the executor tests, NOT ThinkPHP / think-queue code (see testdata/thinkphp/README.md): ThinkPHP 6/8's
// think\Config shape: load(file, name) keeps a config file's array under name; get('a') is a file's array ([] without the file), get('a.b') one value.
namespace think;

class Config
{
    private $config = [];

    public function load($file, $name)
    {
        $this->config[$name] = array_merge($this->config[$name] ?? [], is_file($file) ? include $file : []);
        return $this->config[$name];
    }

    public function get($name = null, $default = null)
    {
        if ($name !== null && strpos($name, '.') === false) {
            return $this->config[$name] ?? []; // a whole file's config, [] when the app has no such file
        }
        $v = $this->config;
        foreach ($name === null ? [] : explode('.', $name) as $part) {
            if (!is_array($v) || !array_key_exists($part, $v)) {
                return $default;
            }
            $v = $v[$part];
        }
        return $v;
    }
}
