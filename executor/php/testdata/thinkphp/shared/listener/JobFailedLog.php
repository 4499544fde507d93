<?php
// think\queue\event\JobFailed listener of the ThinkPHP 6 stand-in app (see ../../README.md).
namespace app\listener;

class JobFailedLog
{
    public function handle($event)
    {
        $payload = json_decode($event->job->getRawBody(), true);
        \app\job\Act::mark($payload['data']['mark'] ?? '', ['event' => 'JobFailed', 'connection' => $event->connection,
            'job' => get_class($event->job), 'parent' => get_parent_class($event->job),
            'deleted' => $event->job->isDeleted(), 'has_failed' => $event->job->hasFailed(),
            'exception' => get_class($event->exception) . ': ' . $event->exception->getMessage()]);
    }
}
