<?php
// STAND-IN for the executor tests, NOT ThinkPHP / think-queue code (see testdata/thinkphp/README.md): ThinkPHP 5.1's
// think\Env shape: load(file) reads an INI-like .env ([SECTION] key as SECTION_KEY, names upper-case); get('a.b')
// is A_B from it, else the environment's PHP_A_B ("true"/"false" as booleans), else the default.
namespace think;

class Env
{
    private $data = [];

    public function load($file)
    {
        foreach (array_change_key_case(parse_ini_file($file, true), CASE_UPPER) as $key => $val) {
            if (is_array($val)) {
                foreach ($val as $k => $v) {
                    $this->data[$key . '_' . strtoupper($k)] = $v;
                }
            } else {
                $this->data[$key] = $val;
            }
        }
    }

    public function get($name, $default = null)
    {
        $name = strtoupper(str_replace('.', '_', $name));
        if (isset($this->data[$name])) {
            return $this->data[$name];
        }
        $v = getenv('PHP_' . $name);
        if ($v === false) {
            return $default;
        }
        return ['true' => true, 'false' => false][$v] ?? $v;
    }
}
