package sql

import (
	"bufio"
	"cmp"
	"context"
	dbsql "database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/queuebridge/bridge/compat/jobstable"
)

// Migration is what a migrate found and did for one table.
type Migration struct {
	// Table is the table's name.
	Table string
	// Statements are the table's DDL as the PHP library ships it for the database, in order.
	Statements []string
	// Existed is true when the table was there already: nothing was run for it. Only the table's name
	// is looked at, not its columns or indexes.
	Existed bool
}

// MigrateJobs creates a jobs table laid out as t, as the PHP library ships it for this database (see
// mysql/jobs_ddl.sql, sqlite/jobs_ddl.sql and postgres/jobs_ddl.sql), unless it exists already or
// dryRun; either way it returns the statements. table "" means DefaultJobsTable. On SQLite and
// PostgreSQL the statements run in one transaction; MySQL commits each DDL statement by itself. The PHP
// app owns the table: nothing in the package migrates on its own.
func (d *DB) MigrateJobs(ctx context.Context, t jobstable.Jobs, table string, dryRun bool) (Migration, error) {
	return d.migrate(ctx, t.Migration, cmp.Or(table, DefaultJobsTable), dryRun)
}

// MigrateFailed is MigrateJobs for a failed jobs table laid out as t (Laravel's failed_jobs stub, or
// think-queue's through think-migration). table "" means DefaultFailedTable.
func (d *DB) MigrateFailed(ctx context.Context, t jobstable.Failed, table string, dryRun bool) (Migration, error) {
	return d.migrate(ctx, t.Migration, cmp.Or(table, DefaultFailedTable), dryRun)
}

func (d *DB) migrate(ctx context.Context, migration, table string, dryRun bool) (Migration, error) {
	if err := validateTable(table); err != nil {
		return Migration{}, err
	}
	m := Migration{Table: table}
	var err error
	if m.Statements, err = d.ddl(migration, table); err != nil {
		return m, fmt.Errorf("migrate %s: %w", table, err)
	}
	if m.Existed, err = d.tableExists(ctx, table); err != nil {
		return m, fmt.Errorf("migrate %s in %s: %w", table, d.where, err)
	}
	if dryRun || m.Existed {
		return m, nil
	}
	if d.drv.ddlInTx {
		err := d.inTx(ctx, nil, func(tx *dbsql.Tx) error {
			for _, stmt := range m.Statements {
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return m, fmt.Errorf("migrate %s in %s: %w", table, d.where, err)
		}
		return m, nil
	}
	for i, stmt := range m.Statements {
		if _, err := d.pool.ExecContext(ctx, stmt); err != nil {
			return m, fmt.Errorf("migrate %s in %s: statement %d of %d: %w", table, d.where, i+1, len(m.Statements), err)
		}
	}
	return m, nil
}

// tableExists reports whether the database holds a table of that name. An SQLite file not made yet
// holds none.
func (d *DB) tableExists(ctx context.Context, table string) (bool, error) {
	if d.path != "" {
		if _, err := os.Stat(d.path); errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
	}
	var n int
	err := d.pool.QueryRowContext(ctx, d.drv.bind(d.drv.tableExists), table).Scan(&n)
	return n > 0, err
}

// ddl returns a migration's statements for the driver with table put in. Index names are the table's
// name plus a suffix ({{table}}_queue_index): on MySQL they must fit in 64 bytes too.
func (d *DB) ddl(migration, table string) ([]string, error) {
	book := ddlBooks[d.drv.kind]
	var stmts []string
	for i := 1; ; i++ {
		stmt, ok := book[migration+"."+strconv.Itoa(i)]
		if !ok {
			break
		}
		if limit := d.drv.maxIdentifier; limit > 0 {
			for rest := stmt; ; {
				_, after, ok := strings.Cut(rest, tablePlaceholder)
				if !ok {
					break
				}
				suffix := after[:strings.IndexFunc(after+" ", func(r rune) bool {
					return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_')
				})]
				if len(table+suffix) > limit {
					return nil, fmt.Errorf("index name %s%s is longer than %s's %d bytes", table, suffix, d.drv.title, limit)
				}
				rest = after
			}
		}
		stmts = append(stmts, strings.ReplaceAll(stmt, tablePlaceholder, table))
	}
	if len(stmts) == 0 {
		return nil, fmt.Errorf("storage/sql: no migration %q for %s", migration, d.drv.kind)
	}
	return stmts, nil
}

// Every table's DDL lives in an embedded .sql file under <driver>/ (mysql/, sqlite/, postgres/), one file
// per kind of table, as named statements:
//
//	-- name: laravel-jobs.1
//	-- comment lines right after the name document the statement and are not sent
//	create table `{{table}}` (...)
//
// {{table}} is replaced by the table name, which validateTable has checked (letters, digits and _ only),
// so nothing from outside is ever spliced into SQL text.
//
//go:embed mysql/*.sql sqlite/*.sql postgres/*.sql
var ddlFS embed.FS

const tablePlaceholder = "{{table}}"

// ddlBooks holds each driver's named statements, with {{table}} still in them.
var ddlBooks = map[driverKind]map[string]string{
	driverMySQL:    loadDDLBook(driverMySQL),
	driverSQLite:   loadDDLBook(driverSQLite),
	driverPostgres: loadDDLBook(driverPostgres),
}

func loadDDLBook(d driverKind) map[string]string {
	book, err := readQueryBook(ddlFS, string(d))
	if err != nil {
		panic("storage/sql: " + err.Error()) // a build defect, not a runtime condition
	}
	return book
}

// readQueryBook parses every .sql file in dir of fsys into one map of name → statement.
func readQueryBook(fsys fs.FS, dir string) (map[string]string, error) {
	files, err := fs.Glob(fsys, path.Join(dir, "*.sql"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no .sql files in %s", dir)
	}
	book := map[string]string{}
	for _, f := range files {
		src, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, err
		}
		if err := parseNamedQueries(f, string(src), book); err != nil {
			return nil, err
		}
	}
	return book, nil
}

// parseNamedQueries adds the statements of one file to book. Text before the first "-- name:" line is
// the file's header; comment lines directly after a name line are the statement's documentation; the
// statement is the remaining lines up to the next name line, trimmed, without a trailing newline.
func parseNamedQueries(file, src string, book map[string]string) error {
	var name string
	var body []string
	inDoc := false
	flush := func() error {
		if name == "" {
			return nil
		}
		stmt := strings.TrimSpace(strings.Join(body, "\n"))
		if stmt == "" {
			return fmt.Errorf("%s: query %s is empty", file, name)
		}
		if _, dup := book[name]; dup {
			return fmt.Errorf("%s: query %s is defined twice", file, name)
		}
		book[name] = stmt
		return nil
	}
	sc := bufio.NewScanner(strings.NewReader(src))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "-- name:"); ok {
			if err := flush(); err != nil {
				return err
			}
			name, body, inDoc = strings.TrimSpace(rest), nil, true
			if name == "" || strings.ContainsAny(name, " \t") {
				return fmt.Errorf("%s: bad query name line %q", file, line)
			}
			continue
		}
		if name == "" {
			continue // the file's header
		}
		if inDoc && strings.HasPrefix(line, "--") {
			continue
		}
		inDoc = false
		body = append(body, line)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return flush()
}
