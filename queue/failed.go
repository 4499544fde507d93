package queue

import "time"

// FailedJob is a job kept in a failed store.
type FailedJob struct {
	ID         string
	Connection string
	Queue      string
	Payload    []byte
	Exception  string
	FailedAt   time.Time
}
