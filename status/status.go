// Package status holds what a running bridge says about itself — its worker groups and their states — as
// the registry keeps it and `bridge status` shows it. It does no I/O.
package status

import "time"

// State is where a worker group is in its life, in supervisord's words.
type State string

// The states of a group.
const (
	Starting State = "STARTING" // connecting, starting its PHP executor
	Running  State = "RUNNING"  // working its queues
	Backoff  State = "BACKOFF"  // its store or PHP executor failed; trying again after a pause
	Stopping State = "STOPPING" // finishing its running jobs
	Stopped  State = "STOPPED"
	Fatal    State = "FATAL" // its PHP processes could not be started startretries times in a row: given up
)

// Bridge is one running bridge process.
type Bridge struct {
	ID          string    `json:"id"`
	Host        string    `json:"host"`
	PID         int       `json:"pid"`
	Version     string    `json:"version"`
	StartedAt   time.Time `json:"started_at"`
	HeartbeatAt time.Time `json:"heartbeat_at"`
	Groups      []Group   `json:"groups"`
}

// Group is one worker group of a running bridge.
type Group struct {
	Name        string       `json:"name"`
	Connection  string       `json:"connection"` // its password hidden
	Dialect     string       `json:"dialect"`
	Queues      []string     `json:"queues"`
	Concurrency int          `json:"concurrency"`
	State       State        `json:"state"`
	Since       time.Time    `json:"since"`
	InFlight    int          `json:"in_flight"`            // jobs running now
	Stuck       int          `json:"stuck"`                // of them, handlers still running past their timeout
	LastError   string       `json:"last_error,omitempty"` // why it last failed
	Restarts    int          `json:"restarts"`             // times its worker was started again after the first
	PHP         []PHPProcess `json:"php,omitempty"`        // its PHP pool's processes
}

// PHPProcess is one process of a group's PHP pool.
type PHPProcess struct {
	State     string    `json:"state"` // STARTING, RUNNING, BACKOFF, EXITED or FATAL
	PID       int       `json:"pid,omitempty"`
	Jobs      int       `json:"jobs"` // run by this process
	Since     time.Time `json:"since"`
	LastError string    `json:"last_error,omitempty"`
}
