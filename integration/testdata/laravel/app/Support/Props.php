<?php

namespace App\Support;

/**
 * Props reads a job object's own properties (public, protected and private, declaration order) with their
 * values, leaving out those of the framework's traits (InteractsWithQueue, Queueable, Batchable). Names are
 * plain (no NUL markers); Eloquent models and collections come out as their toArray() through json_encode.
 */
final class Props
{
    public const FRAMEWORK = ['job', 'connection', 'queue', 'chainConnection', 'chainQueue', 'chainCatchCallbacks',
        'delay', 'afterCommit', 'middleware', 'chained', 'batchId'];

    public static function of(object $o): array
    {
        $out = [];
        foreach ((new \ReflectionObject($o))->getProperties() as $p) {
            if ($p->isStatic() || in_array($p->getName(), self::FRAMEWORK, true) || !$p->isInitialized($o)) {
                continue;
            }
            $p->setAccessible(true);
            $out[$p->getName()] = $p->getValue($o);
        }
        return $out;
    }

    /** set assigns $name on $o (any visibility). */
    public static function set(object $o, string $name, $value): void
    {
        $r = new \ReflectionObject($o);
        if (!$r->hasProperty($name)) {
            $o->{$name} = $value;
            return;
        }
        $p = $r->getProperty($name);
        $p->setAccessible(true);
        $p->setValue($o, $value);
    }
}
