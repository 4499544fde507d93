package main

import (
	"testing"
	"time"

	"github.com/queuebridge/bridge"
	"github.com/queuebridge/bridge/bridgetest"
)

// The handler, tested with the kit: the payload PHP's Queue::push writes, run as the worker would.
func TestHello(t *testing.T) {
	b := bridge.New()
	register(b)
	kit := bridgetest.New(t, b, "thinkqueue-v1")
	kit.Run(kit.Payload(`app\job\Hello`, map[string]string{"name": "Ann"}), bridge.WorkerConfig{}).AssertDeleted()
	kit.Run(kit.Payload(`app\job\Hello`, map[string]string{}), bridge.WorkerConfig{Delay: 10 * time.Second}).
		AssertReleased(10 * time.Second)
}
