package thinkqueue

import "github.com/queuebridge/bridge/compat/jobstable"

// JobsTable is the jobs table of v's database connector (think\queue\connector\Database):
//
//   - V1 (1.x/2.x, the table of their README): reserved, reserved_at, available_at, created_at. A
//     reservation leaves attempts alone, and pop() first puts reservations older than expire back with
//     attempts + 1.
//   - V3 (3.0.3–3.0.9, think-migration's jobs.stub): reserve_time, available_time, create_time. A
//     reservation adds 1 to attempts; a lapsed one is reserved again as it stands.
func (v Version) JobsTable() jobstable.Jobs {
	if v == V3 {
		return jobstable.Jobs{
			Migration:     "thinkqueue-v3-jobs",
			ReservedAt:    "reserve_time",
			AvailableAt:   "available_time",
			CreatedAt:     "create_time",
			InsertColumns: []string{"queue", "attempts", "reserve_time", "available_time", "create_time", "payload"},
			// markJobAsReserved: attempts + 1.
			CountsAtReserve: true,
		}
	}
	return jobstable.Jobs{
		Migration:     "thinkqueue-v1-jobs",
		Reserved:      "reserved",
		ReservedAt:    "reserved_at",
		AvailableAt:   "available_at",
		CreatedAt:     "created_at",
		InsertColumns: []string{"queue", "payload", "attempts", "reserved", "reserved_at", "available_at", "created_at"},
		// releaseJobsThatHaveBeenReservedTooLong: attempts + 1.
		RecoveryAddsAttempt: true,
	}
}

// FailedTable is think-queue 3.0.3–3.0.9's failed_jobs table (failed.type = database): fail_time, no
// uuid, the wall clock of the app's default_timezone. 1.x/2.x keep no failed table; the bridge gives
// them this one.
func FailedTable() jobstable.Failed {
	return jobstable.Failed{Migration: "thinkqueue-v3-failed-jobs", FailedAt: "fail_time"}
}
