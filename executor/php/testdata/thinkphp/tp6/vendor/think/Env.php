<?php
// STAND-IN for the executor tests, NOT ThinkPHP / think-queue code (see testdata/thinkphp/README.md): ThinkPHP 6/8's
// think\Env shape: load(file) reads an INI-like .env raw ([SECTION] key as SECTION_KEY, names upper-case); get('a.b')
// is A_B from it, else the environment's PHP_A_B, with "true"/"false"/"null"/"empty" converted.
namespace think;

class Env
{
    private $data = [];

    private const CONVERT = ['true' => true, 'false' => false, 'off' => false, 'on' => true, 'null' => null, 'empty' => ''];

    public function load($file)
    {
        foreach (array_change_key_case(parse_ini_file($file, true, INI_SCANNER_RAW) ?: [], CASE_UPPER) as $key => $val) {
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
            $v = $this->data[$name];
        } else {
            $v = getenv('PHP_' . $name);
            if ($v === false) {
                return $default;
            }
        }
        return is_string($v) && array_key_exists($v, self::CONVERT) ? self::CONVERT[$v] : $v;
    }
}
