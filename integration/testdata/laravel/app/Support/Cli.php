<?php

namespace App\Support;

/** Cli splits command lines: the harness's own --name[=value] options, and the rest. */
final class Cli
{
    /**
     * split takes out of $args every --name or --name=value whose name is in $names (repeats collect into an
     * array) and returns [options, remaining args].
     */
    public static function split(array $args, array $names): array
    {
        $opts = [];
        $rest = [];
        foreach ($args as $a) {
            if (preg_match('/^--([a-z][a-z0-9-]*)(?:=(.*))?$/s', $a, $m) && in_array($m[1], $names, true)) {
                $v = array_key_exists(2, $m) ? $m[2] : true;
                if (array_key_exists($m[1], $opts)) {
                    $opts[$m[1]] = array_merge((array)$opts[$m[1]], [$v]);
                } else {
                    $opts[$m[1]] = $v;
                }
                continue;
            }
            $rest[] = $a;
        }
        return [$opts, $rest];
    }

    /** all returns option $name as a list (absent: []). */
    public static function all(array $opts, string $name): array
    {
        return array_key_exists($name, $opts) ? (array)$opts[$name] : [];
    }
}
