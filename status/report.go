package status

import (
	"fmt"
	"strings"
	"time"
)

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
	Verdict          string     `json:"verdict"`              // Reasons in English, as one sentence
	Reasons          []Reason   `json:"reasons"`
}

// Reason is one part of a verdict: its kind and the figures its sentence names, for a reader that words it
// in another language. A ready class has one reason (ReasonAllGo or ReasonReady); a class not yet ready has
// one for each thing that holds it back.
type Reason struct {
	Kind string `json:"kind"`
	// N of Of: mismatches of shadow runs, or Go's runs of the runs that make the case.
	N  int64 `json:"n,omitempty"`
	Of int64 `json:"of,omitempty"`
	// Go's and PHP's share of their runs, in percent: of failed runs, or of released ones.
	GoPercent  float64 `json:"go_percent,omitempty"`
	PHPPercent float64 `json:"php_percent,omitempty"`
}

// The kinds of Reason.
const (
	ReasonAllGo            = "all-go"            // the class's route is go
	ReasonReady            = "ready"             // N runs in Go with PHP's outcomes
	ReasonShadowMismatches = "shadow-mismatches" // N of Of shadow runs ended otherwise than in PHP
	ReasonGoFailsMore      = "go-fails-more"     // Go fails more of its runs than PHP
	ReasonGoReleasesMore   = "go-releases-more"  // Go releases more of its runs than PHP
	ReasonFewGoRuns        = "few-go-runs"       // N runs in Go, where Of make the case
)

// ReasonFormats are the kinds' sentences in English, as fmt formats of the figures Args gives.
var ReasonFormats = map[string]string{
	ReasonAllGo:            "all of it runs in Go",
	ReasonReady:            "Go has run %d jobs of this class with the same outcomes as PHP: ready for 100%%",
	ReasonShadowMismatches: "%d of %d shadow runs ended otherwise than in PHP (%.2f%%)",
	ReasonGoFailsMore:      "Go fails %.2f%% of its runs, PHP %.2f%%",
	ReasonGoReleasesMore:   "Go releases %.2f%% of its runs, PHP %.2f%%",
	ReasonFewGoRuns:        "Go has run %d jobs of this class; %d make the case",
}

// Args are the figures of the reason's sentence, in its order.
func (r Reason) Args() []any {
	switch r.Kind {
	case ReasonReady:
		return []any{r.N}
	case ReasonShadowMismatches:
		return []any{r.N, r.Of, 100 * float64(r.N) / float64(max(r.Of, 1))}
	case ReasonGoFailsMore, ReasonGoReleasesMore:
		return []any{r.GoPercent, r.PHPPercent}
	case ReasonFewGoRuns:
		return []any{r.N, r.Of}
	}
	return nil
}

// String is the reason in English.
func (r Reason) String() string {
	return fmt.Sprintf(ReasonFormats[r.Kind], r.Args()...)
}

// VerdictText is a verdict in English: the ready reason, or "not yet: " and what holds the class back.
func VerdictText(ready bool, reasons []Reason) string {
	parts := make([]string, len(reasons))
	for i, r := range reasons {
		parts[i] = r.String()
	}
	if ready {
		return strings.Join(parts, "; ")
	}
	return "not yet: " + strings.Join(parts, "; ")
}
