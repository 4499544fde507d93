package queue

import (
	"encoding/json"
	"time"
)

// JobInfo is one job found by id: where it is and what it holds, decoded.
type JobInfo struct {
	StoredJob // Queue, State, Member, Raw, Attempts, AvailableAt, ReservedUntil
	// ID is the payload's id (Redis) or the row id (jobs table).
	ID string
	// Name is the job class (Laravel: the command's class).
	Name string
	// Attempts is what the PHP library's attempts() would report on the job's next run.
	Attempts int
	// Data is the data as JSON; for a Laravel object job the unserialized command's properties.
	Data json.RawMessage
}

// JobEdit changes a waiting job; zero fields keep what the job has.
type JobEdit struct {
	Data  json.RawMessage // new data (think-queue/Laravel string jobs); re-encoded as the PHP library would encode it
	Delay *time.Duration  // run after this long from now
	At    *time.Time      // run at this time
	Queue string          // move to this queue
	Front bool            // move to the front of its queue (runs next)
}

// TrendPoint is one minute of a queue across every bridge.
type TrendPoint struct {
	Minute    time.Time
	Processed int64
	Failed    int64
	WaitSum   time.Duration // sum of wait times of jobs started this minute (where known), for the average
	WaitCount int64
}

// ReportDelta is what one bridge counted of a job class in one minute since its last flush, added to the
// counters every bridge on the connection shares.
type ReportDelta struct {
	Class      string
	Minute     int64            // Unix time / 60
	Counts     map[string]int64 // added to the minute's counters, by name (go.runs, php.failed, …)
	Mismatches [][]byte         // shadow mismatches (JSON), oldest first
}

// ReportCounts is one class's counters summed over a window's minutes, and its kept mismatches, newest
// first.
type ReportCounts struct {
	Counts     map[string]int64
	Mismatches [][]byte
}
