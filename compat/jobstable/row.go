package jobstable

import (
	"fmt"

	"github.com/queuebridge/bridge/queue"
)

// MaxAttempts is the ceiling of the jobs tables' attempts column (TINYINT UNSIGNED in every library's
// DDL): one more attempt would overflow it, which PHP turns into a failing UPDATE that wedges the queue
// (think-queue #97).
const MaxAttempts = 255

// RowID is a database queue's job id, its row id (getJobId()); "" on Redis, where the payload has one. A
// store that counts attempts in a column gives the reservation a positive Attempts.
func RowID(res queue.Reservation) string {
	if res.Attempts > 0 {
		return string(res.Member)
	}
	return ""
}

// CheckCeiling is the reason to fail job name without running it when its attempts column reached
// MaxAttempts, or nil.
func CheckCeiling(name string, res queue.Reservation) error {
	if res.Attempts >= MaxAttempts {
		return fmt.Errorf("job %s: its attempts column reached %d, the most a TINYINT UNSIGNED holds; failed rather than overflowed", name, MaxAttempts)
	}
	return nil
}
