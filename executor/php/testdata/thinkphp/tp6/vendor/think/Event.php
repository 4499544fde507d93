<?php
// STAND-IN for the executor tests, NOT ThinkPHP / think-queue code (see testdata/thinkphp/README.md): ThinkPHP 6/8's
// think\Event shape: listeners by event class; trigger(object) calls their handle($event).
namespace think;

class Event
{
    private $listeners = [];

    public function listenEvents(array $events)
    {
        foreach ($events as $event => $list) {
            $this->listeners[$event] = array_merge($this->listeners[$event] ?? [], $list);
        }
    }

    public function trigger($event)
    {
        $results = [];
        foreach ($this->listeners[get_class($event)] ?? [] as $class) {
            $results[] = (new $class())->handle($event);
        }
        return $results;
    }
}
