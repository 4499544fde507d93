package queue

import "time"

// State is where a job is in its queue.
type State string

// The states a stored job can be in.
const (
	StateReady    State = "ready"    // waiting to run
	StateDelayed  State = "delayed"  // waiting for its time (Queue::later, a release with a delay)
	StateReserved State = "reserved" // taken by a worker, PHP's or the bridge's
)

// Sizes counts a queue's jobs by state.
type Sizes struct {
	Ready, Delayed, Reserved int64
	// OldestReady is when the oldest ready job became available; zero when the queue has none or the
	// store cannot tell (a Redis list keeps no times).
	OldestReady time.Time
}

// StoredJob is one job as the store holds it, for listings: looking at a job never reserves it.
type StoredJob struct {
	Queue string
	State State
	// Member identifies the job in the store: the exact bytes in a Redis list or sorted set, the row id
	// (decimal) in a jobs table.
	Member []byte
	// Raw is the payload as stored.
	Raw []byte
	// Attempts is a jobs table's attempts column; 0 on Redis, where the payload counts.
	Attempts int
	// AvailableAt is when a delayed job becomes ready; ReservedUntil is when a reservation lapses. Zero
	// when not in that state.
	AvailableAt, ReservedUntil time.Time
}
