<?php
// The ThinkPHP 5.1 stand-in app's cache config (see ../../README.md): the skeleton's File cache (empty path:
// runtime/cache/).
return [
    'type'   => env('cache.type', 'File'),
    'path'   => '',
    'prefix' => env('cache.prefix', ''),
    'expire' => 0,
    'host'   => env('cache.host', '127.0.0.1'),
    'select' => env('cache.select', 0),
];
