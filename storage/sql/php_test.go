package sql

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"
)

// phpScript is what PHP's failed providers and commands do with failed_jobs, through PDO as
// Laravel's and think-orm's connections set it up:
//
//   - QB_MODE=read: `select * from <table> order by id desc` (DatabaseUuidFailedJobProvider::all and
//     think-queue's Database::all), every column base64-encoded so no byte is lost on the way to Go, plus
//     the "Class" column queue:failed prints (the first "…" in data.command, else the payload's job);
//   - QB_MODE=insert: one row of QB_ROW (JSON, base64 values) with the columns sorted by name, as
//     Laravel's Builder::insert sends them; prints the new id.
const phpScript = `
$pdo = new PDO(getenv('QB_PDO_DSN'), getenv('QB_PDO_USER') ?: null, getenv('QB_PDO_PASS') ?: null,
    [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION, PDO::ATTR_STRINGIFY_FETCHES => true]);
$mysql = $pdo->getAttribute(PDO::ATTR_DRIVER_NAME) === 'mysql';
if ($mysql) {
    $pdo->exec("set names 'utf8mb4' collate 'utf8mb4_unicode_ci'");
}
$q = fn($name) => $mysql ? '` + "`" + `' . $name . '` + "`" + `' : '"' . $name . '"';
$table = $q(getenv('QB_TABLE'));
if (getenv('QB_MODE') === 'insert') {
    $row = json_decode(getenv('QB_ROW'), true, 512, JSON_THROW_ON_ERROR);
    ksort($row);
    $stmt = $pdo->prepare('insert into ' . $table . ' (' . implode(', ', array_map($q, array_keys($row))) .
        ') values (' . implode(', ', array_fill(0, count($row), '?')) . ')');
    $stmt->execute(array_values(array_map('base64_decode', $row)));
    echo json_encode(['id' => $pdo->lastInsertId()]);
    exit(0);
}
$out = [];
foreach ($pdo->query('select * from ' . $table . ' order by ' . $q('id') . ' desc')->fetchAll(PDO::FETCH_ASSOC) as $r) {
    $row = [];
    foreach ($r as $k => $v) {
        $row[$k] = $v === null ? null : base64_encode((string) $v);
    }
    $payload = json_decode((string) $r['payload'], true);
    $class = null;
    if ($payload && !isset($payload['data']['command'])) {
        $class = $payload['job'] ?? null;
    } elseif ($payload && isset($payload['data']['command'])) {
        preg_match('/"([^"]+)"/', $payload['data']['command'], $m);
        $class = $m[1] ?? $payload['job'] ?? null;
    }
    $out[] = ['row' => $row, 'class' => $class];
}
echo json_encode($out);
`

// phpRow is one failed_jobs row as PHP read it.
type phpRow struct {
	// Columns maps each column to its value as PDO returned it; nil is NULL.
	Columns map[string]*string
	// Class is what queue:failed shows in its Class column.
	Class *string
}

func runPHP(t testing.TB, tb *testBundle, mode string, row map[string]string) []byte {
	t.Helper()
	php, err := exec.LookPath("php")
	require.NoError(t, err, "php is needed for the cross-check (scripts/services.sh installs it)")
	if tb.driver == driverPostgres {
		mods, err := exec.Command(php, "-m").Output()
		require.NoError(t, err)
		if !bytes.Contains(mods, []byte("pdo_pgsql")) {
			t.Skip("PHP has no pdo_pgsql (apt-get install php8.2-pgsql) for the PostgreSQL cross-check")
		}
	}
	cmd := exec.Command(php, "-r", phpScript)
	cmd.Env = append(os.Environ(),
		"QB_PDO_DSN="+tb.pdoDSN, "QB_PDO_USER="+tb.pdoUser, "QB_PDO_PASS="+tb.pdoPass,
		"QB_TABLE="+tb.table, "QB_MODE="+mode)
	if row != nil {
		enc := map[string]string{}
		for k, v := range row {
			enc[k] = base64.StdEncoding.EncodeToString([]byte(v))
		}
		data, err := json.Marshal(enc)
		require.NoError(t, err)
		cmd.Env = append(cmd.Env, "QB_ROW="+string(data))
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "php: %s%s", stderr.String(), out)
	return out
}

// phpRead returns the table's rows as PHP's failed provider reads them: newest first.
func phpRead(t testing.TB, tb *testBundle) []phpRow {
	t.Helper()
	var raw []struct {
		Row   map[string]*string `json:"row"`
		Class *string            `json:"class"`
	}
	require.NoError(t, json.Unmarshal(runPHP(t, tb, "read", nil), &raw))
	rows := make([]phpRow, 0, len(raw))
	for _, r := range raw {
		cols := map[string]*string{}
		for k, v := range r.Row {
			if v == nil {
				cols[k] = nil
				continue
			}
			b, err := base64.StdEncoding.DecodeString(*v)
			require.NoError(t, err)
			cols[k] = strp(string(b))
		}
		rows = append(rows, phpRow{Columns: cols, Class: r.Class})
	}
	return rows
}

// phpInsert has PHP insert row (column → value) and returns the new id.
func phpInsert(t testing.TB, tb *testBundle, row map[string]string) string {
	t.Helper()
	var res struct {
		ID string `json:"id"`
	}
	require.NoError(t, json.Unmarshal(runPHP(t, tb, "insert", row), &res))
	return res.ID
}
