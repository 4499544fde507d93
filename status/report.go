package status

import "time"

// SideReport is what one side (Go or PHP) did with a class's jobs over a report's window.
type SideReport struct {
	Runs     int64         `json:"runs"`
	Failed   int64         `json:"failed"`   // runs that failed the job for good
	Released int64         `json:"released"` // runs that sent it back for another attempt
	Mean     time.Duration `json:"mean"`
	P95      time.Duration `json:"p95"` // from fixed histogram buckets, interpolated within one
}

// Mismatch is one job whose shadow run in Go ended otherwise than its authoritative run in PHP.
type Mismatch struct {
	JobID string        `json:"job_id"`
	Queue string        `json:"queue"`
	At    time.Time     `json:"at"`
	PHP   ShadowOutcome `json:"php"`
	Go    ShadowOutcome `json:"go"`
}

// ShadowOutcome is how one side's run of a job ended: deleted, released, failed or kept, the error's
// text, and the result value the handler left (JSON).
type ShadowOutcome struct {
	Outcome string `json:"outcome"`
	Error   string `json:"error,omitempty"`
	Result  string `json:"result,omitempty"`
}

// ClassReport is what the bridges of a connection did with one job class over a window.
type ClassReport struct {
	Class            string     `json:"class"`
	Route            string     `json:"route"` // the class's route now, "" for none
	Runs             int64      `json:"runs"`  // Go's and PHP's together (every attempt counts)
	Go               SideReport `json:"go"`
	PHP              SideReport `json:"php"`
	ShadowRuns       int64      `json:"shadow_runs"`
	ShadowMismatches int64      `json:"shadow_mismatches"`
	Mismatches       []Mismatch `json:"mismatches,omitempty"` // the last ones kept, newest first
	Ready            bool       `json:"ready"`                // Go can take all of the class
	Verdict          string     `json:"verdict"`
}
