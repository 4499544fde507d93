<?php
// Tags of the ThinkPHP 5.0 stand-in test app (see ../../README.md).
return [
    'queue_failed' => ['app\behavior\QueueFailed'],
];
