package sql

import (
	"errors"
	"fmt"
)

// DefaultJobsTable is the jobs table's name when given "": Laravel's and think-queue's default.
const DefaultJobsTable = "jobs"

// DefaultFailedTable is the failed jobs table's name when given "": Laravel's queue.failed.table and
// think-queue's queue.failed.table default.
const DefaultFailedTable = "failed_jobs"

// maxIdentifier is the longest table name the package takes, MySQL's limit on table and index names.
const maxIdentifier = 64

// ErrNoTable is returned (wrapped: "jobs table <name> does not exist …") by DB.Jobs when the jobs table
// is not in the database.
var ErrNoTable = errors.New("does not exist")

// validateTable accepts a table name that can be put into a statement as is: ASCII letters, digits and
// '_' only, at most 64 bytes. The caller includes the app's table prefix ("tp_failed_jobs").
func validateTable(table string) error { return validateName("table", table) }

// validateName checks a table or column name as validateTable does.
func validateName(what, name string) error {
	if name == "" {
		return fmt.Errorf("storage/sql: %s name is empty", what)
	}
	if len(name) > maxIdentifier {
		return fmt.Errorf("storage/sql: %s name %.20q… is longer than %d bytes", what, name, maxIdentifier)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return fmt.Errorf("storage/sql: %s name %q: only letters, digits and _ are allowed", what, name)
		}
	}
	return nil
}
