package sql

import (
	"bufio"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// Every statement lives in an embedded .sql file under <driver>/ (mysql/, sqlite/, postgres/), one file per
// table and purpose, as a named query:
//
//	-- name: LaravelInsert
//	-- comment lines right after the name document the query and are not sent
//	INSERT INTO `{{table}}` (...) VALUES (?, ...)
//
// Placeholders are the driver's own: "?" on MySQL and SQLite, "$1", "$2", … on PostgreSQL.
//
// {{table}} is replaced by the table name, which validateTable has checked (letters, digits and _ only),
// so nothing from outside is ever spliced into SQL text. Values, "now" included, are always parameters.
//
//go:embed mysql/*.sql sqlite/*.sql postgres/*.sql
var queryFS embed.FS

const tablePlaceholder = "{{table}}"

// queryBooks holds each driver's named statements, with {{table}} still in them.
var queryBooks = map[driverKind]map[string]string{
	driverMySQL:    loadQueryBook(driverMySQL),
	driverSQLite:   loadQueryBook(driverSQLite),
	driverPostgres: loadQueryBook(driverPostgres),
}

func loadQueryBook(d driverKind) map[string]string {
	book, err := readQueryBook(queryFS, string(d))
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

// parseNamedQueries adds the queries of one file to book. Text before the first "-- name:" line is the
// file's header; comment lines directly after a name line are the query's documentation; the statement is
// the remaining lines up to the next name line, trimmed, without a trailing newline.
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

// boundQueries are one store's statements, with its table name put in.
type boundQueries struct {
	insert, list, find, forget, flush, tableExists string
	// migrate is the CREATE TABLE (and index) statements the PHP library ships, in order.
	migrate []string
}

// bindQueries picks the statements for schema from d's book and puts table into them.
func bindQueries(d driverKind, schema Schema, table string) (boundQueries, error) {
	book := queryBooks[d]
	prefix := "Laravel"
	ddl := []string{"LaravelCreateTable", "LaravelUUIDIndex"}
	if schema == SchemaThinkQueue {
		prefix = "ThinkQueue"
		ddl = []string{"ThinkQueueCreateTable"}
	}
	var firstErr error
	get := func(name string) string {
		q, ok := book[name]
		if !ok && firstErr == nil {
			firstErr = fmt.Errorf("storage/sql: no query %s for %s", name, d)
		}
		return strings.ReplaceAll(q, tablePlaceholder, table)
	}
	b := boundQueries{
		insert:      get(prefix + "Insert"),
		list:        get(prefix + "List"),
		find:        get(prefix + "Find"),
		forget:      get(prefix + "Forget"),
		flush:       get("Flush"),
		tableExists: get("TableExists"),
	}
	for _, name := range ddl {
		b.migrate = append(b.migrate, get(name))
	}
	return b, firstErr
}
