<?php

namespace App\Support;

/** Out writes the scripts' JSON lines. */
final class Out
{
    public const FLAGS = JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_PRESERVE_ZERO_FRACTION
        | JSON_INVALID_UTF8_SUBSTITUTE;

    public static function json($v): string
    {
        return json_encode($v, self::FLAGS);
    }

    public static function line(array $v): void
    {
        fwrite(STDOUT, self::json($v) . "\n");
    }

    public static function fail(string $msg, int $code = 2): void
    {
        fwrite(STDERR, $msg . "\n");
        exit($code);
    }
}
