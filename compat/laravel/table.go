package laravel

import "github.com/queuebridge/bridge/compat/jobstable"

// JobsTable is the jobs table of Laravel 8–12's DatabaseQueue (the jobs.stub migration): reserved_at,
// available_at, created_at. A reservation adds 1 to attempts; a reservation older than retry_after is
// reserved again as it stands.
func JobsTable() jobstable.Jobs {
	return jobstable.Jobs{
		Migration:       "laravel-jobs",
		ReservedAt:      "reserved_at",
		AvailableAt:     "available_at",
		CreatedAt:       "created_at",
		InsertColumns:   []string{"queue", "attempts", "reserved_at", "available_at", "created_at", "payload"},
		CountsAtReserve: true,
	}
}

// FailedTable is Laravel 8–12's failed_jobs table for the database-uuids driver
// (DatabaseUuidFailedJobProvider): a failed job is known by its uuid, and failed_at is in app.timezone,
// UTC in the skeleton.
func FailedTable() jobstable.Failed {
	return jobstable.Failed{Migration: "laravel-failed-jobs", UUID: "uuid", FailedAt: "failed_at", UTC: true}
}
