// Package jobstable describes, as plain data, the database tables a PHP queue library keeps its jobs and
// its failed jobs in: which columns hold what, and how the library counts attempts in them. The libraries
// fill it (thinkqueue.V1.JobsTable(), laravel.JobsTable(), …) and storage/sql applies it without knowing
// which library it is.
package jobstable

// Jobs is a jobs table. Every layout has an auto-increment id and queue, payload and attempts columns by
// those names; Jobs names the rest.
type Jobs struct {
	// Migration names the CREATE statements the library ships for the table; storage/sql holds their
	// text for each database.
	Migration string
	// Reserved is the 0/1 column that marks a reservation; "" when a non-NULL ReservedAt alone does.
	Reserved string
	// ReservedAt, AvailableAt and CreatedAt are the Unix-seconds columns: when the row was reserved (NULL
	// when waiting), when it may run, when it was pushed.
	ReservedAt, AvailableAt, CreatedAt string
	// InsertColumns are the columns in the order the library's push names them (the order changes no
	// row; it keeps the bridge's statements the library's).
	InsertColumns []string
	// CountsAtReserve is true when a reservation adds 1 to attempts, so attempts() is the column; when
	// false, the column counts finished attempts and attempts() is the column + 1.
	CountsAtReserve bool
	// RecoveryAddsAttempt is true when a reservation that lapsed is first put back as waiting with
	// attempts + 1, as a separate step before reserving; when false, a lapsed reservation is reserved
	// again as it stands.
	RecoveryAddsAttempt bool
}

// Failed is a failed jobs table. Every layout has an auto-increment id and connection, queue, payload and
// exception columns by those names; Failed names the rest.
type Failed struct {
	// Migration names the CREATE statements the library ships for the table; storage/sql holds their
	// text for each database.
	Migration string
	// UUID is the column a failed job is known by (the payload's uuid); "" when there is none and the row
	// id, as decimal text, is the failed job's id.
	UUID string
	// FailedAt is the column of the failure time, 'Y-m-d H:i:s' text without a zone.
	FailedAt string
	// UTC is true when, with no zone configured, the library writes FailedAt in UTC (the framework's
	// default time zone); when false, the caller's wall clock is written as given and read as local time.
	UTC bool
}
