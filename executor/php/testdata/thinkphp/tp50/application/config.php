<?php
// The ThinkPHP 5.0 stand-in app's config.php (see ../../README.md): the skeleton's File cache.
use think\Env;

return [
    'cache' => [
        'type'   => Env::get('cache.type', 'File'),
        'path'   => CACHE_PATH,
        'prefix' => Env::get('cache.prefix', ''),
        'expire' => 0,
        'host'   => Env::get('cache.host', '127.0.0.1'),
        'select' => Env::get('cache.select', 0),
    ],
];
