package sql

import (
	"errors"
	"fmt"
)

// Schema names the failed_jobs table layout of a PHP queue library.
type Schema int

const (
	// SchemaLaravel is Laravel 8–12's failed_jobs for the database-uuids driver
	// (DatabaseUuidFailedJobProvider): id, uuid UNIQUE, connection, queue, payload, exception, failed_at.
	// A job is known by its uuid.
	SchemaLaravel Schema = iota + 1
	// SchemaThinkQueue is think-queue 3.0.3–3.0.9's failed_jobs (failed.type = database): id, connection,
	// queue, payload, exception, fail_time. There is no uuid: a job is known by its numeric id, as text.
	SchemaThinkQueue
)

// String returns "laravel" or "thinkqueue".
func (s Schema) String() string {
	switch s {
	case SchemaLaravel:
		return "laravel"
	case SchemaThinkQueue:
		return "thinkqueue"
	}
	return fmt.Sprintf("Schema(%d)", int(s))
}

func (s Schema) validate() error {
	switch s {
	case SchemaLaravel, SchemaThinkQueue:
		return nil
	case 0:
		return errors.New("storage/sql: schema is required (SchemaLaravel or SchemaThinkQueue)")
	}
	return fmt.Errorf("storage/sql: unknown schema %d", int(s))
}

// DefaultFailedTable is the table OpenFailedStore uses when given "": Laravel's queue.failed.table and
// think-queue's queue.failed.table default.
const DefaultFailedTable = "failed_jobs"

// maxIdentifier is MySQL's limit on table and index names (SQLite has none).
const maxIdentifier = 64

// validateTable accepts a table name that can be put into a statement as is: ASCII letters, digits and
// '_' only, at most 64 bytes. The caller includes the app's table prefix ("tp_failed_jobs").
func validateTable(table string) error {
	if table == "" {
		return errors.New("storage/sql: table name is empty")
	}
	if len(table) > maxIdentifier {
		return fmt.Errorf("storage/sql: table name %.20q… is longer than %d bytes", table, maxIdentifier)
	}
	for i := 0; i < len(table); i++ {
		c := table[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return fmt.Errorf("storage/sql: table name %q: only letters, digits and _ are allowed", table)
		}
	}
	return nil
}
