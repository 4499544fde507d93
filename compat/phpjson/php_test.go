package phpjson

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// runPHP runs script with the php CLI, one process for all inputs: it reads inputs (one a line, base64-encoded)
// from the file named by $argv[1] and must print one line per input, either base64 of its result or "!" and
// an error. PHP is a required test dependency (CI installs it), so a missing php fails the test.
func runPHP(t *testing.T, script string, inputs [][]byte) []string {
	t.Helper()
	php, err := exec.LookPath("php")
	require.NoError(t, err, "the php CLI must be on PATH: these tests compare against real PHP")

	var in bytes.Buffer
	for _, b := range inputs {
		in.WriteString(base64.StdEncoding.EncodeToString(b))
		in.WriteByte('\n')
	}
	file := filepath.Join(t.TempDir(), "inputs.txt")
	require.NoError(t, os.WriteFile(file, in.Bytes(), 0o600))

	var stderr bytes.Buffer
	cmd := exec.CommandContext(t.Context(), php, "-d", "serialize_precision=-1", "-r", script, "--", file)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "php failed: %s", stderr.String())
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	require.Len(t, lines, len(inputs), "php printed one line per input")
	return lines
}

// comparePHP checks that got (our result or error for each input) agrees with PHP's line for it: the same bytes,
// or an error on both sides.
func comparePHP(t *testing.T, inputs [][]byte, phpLines []string, ours func([]byte) ([]byte, error)) {
	t.Helper()
	var mismatches []string
	for i, in := range inputs {
		got, err := ours(in)
		want, phpErr := strings.CutPrefix(phpLines[i], "!")
		switch {
		case phpErr && err == nil:
			mismatches = append(mismatches, fmt.Sprintf("input %q: PHP failed (%s), we wrote %q", in, want, got))
		case phpErr:
		case err != nil:
			mismatches = append(mismatches, fmt.Sprintf("input %q: PHP wrote %q, we failed: %v", in, decodeBase64(t, want), err))
		case string(got) != string(decodeBase64(t, want)):
			mismatches = append(mismatches, fmt.Sprintf("input %q:\n  PHP: %q\n  Go:  %q", in, decodeBase64(t, want), got))
		}
		if len(mismatches) == 20 {
			break
		}
	}
	require.Empty(t, mismatches)
}

func decodeBase64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	require.NoError(t, err)
	return b
}

const phpNormalizeScript = `
foreach (file($argv[1], FILE_IGNORE_NEW_LINES) as $line) {
    $v = json_decode(base64_decode($line), true);
    if (json_last_error() !== JSON_ERROR_NONE) {
        echo "!", json_last_error_msg(), "\n";
        continue;
    }
    $out = json_encode($v);
    echo $out === false ? "!" . json_last_error_msg() : base64_encode($out), "\n";
}`

func TestNormalizeMatchesPHP(t *testing.T) {
	t.Parallel()

	r := rand.New(rand.NewPCG(1, 2))
	var docs [][]byte
	for range 500 {
		g := docGen{r: r}
		g.value(0)
		docs = append(docs, g.b)
	}
	// Broken documents must fail on both sides (or, where the damage left valid JSON, agree).
	for _, doc := range docs[:200] {
		docs = append(docs, corrupt(r, doc))
	}
	docs = append(docs,
		[]byte(strings.Repeat("[", 511)+strings.Repeat("]", 511)),
		[]byte(strings.Repeat("[", 512)+strings.Repeat("]", 512)),
		[]byte(strings.Repeat(`{"0":`, 511)+"1"+strings.Repeat("}", 511)),
		[]byte(`[1e400]`), []byte(`-1e-400`), []byte(``), []byte(` `), []byte(`"\ud800"`), []byte(`"\udc00\ud800"`),
	)

	comparePHP(t, docs, runPHP(t, phpNormalizeScript, docs), Normalize)
}

const phpFloatScript = `
foreach (file($argv[1], FILE_IGNORE_NEW_LINES) as $line) {
    $out = json_encode(unpack('E', base64_decode($line))[1]);
    echo $out === false ? "!" . json_last_error_msg() : base64_encode($out), "\n";
}`

func TestEncodeFloatMatchesPHP(t *testing.T) {
	t.Parallel()

	r := rand.New(rand.NewPCG(3, 4))
	var floats []float64
	for range 2000 {
		floats = append(floats, math.Float64frombits(r.Uint64())) // every exponent, subnormals, NaN
	}
	for range 2000 {
		floats = append(floats, randomFloat(r))
	}
	for e := -330; e <= 310; e++ {
		p, _ := strconv.ParseFloat("1e"+strconv.Itoa(e), 64)
		floats = append(floats, p, -p, math.Nextafter(p, 0), math.Nextafter(p, math.Inf(1)), 1.5*p, 0.3*p)
	}
	floats = append(floats, 0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN(),
		math.MaxFloat64, math.SmallestNonzeroFloat64, 1<<53, 1<<53+1, 1<<63, 123456789.5)

	inputs := make([][]byte, len(floats))
	for i, f := range floats {
		inputs[i] = binary.BigEndian.AppendUint64(nil, math.Float64bits(f))
	}
	comparePHP(t, inputs, runPHP(t, phpFloatScript, inputs), func(b []byte) ([]byte, error) {
		return Encode(math.Float64frombits(binary.BigEndian.Uint64(b)))
	})
}

// docGen writes random JSON text, not through Encode, in the shapes and spellings PHP and foreign producers use.
type docGen struct {
	r *rand.Rand
	b []byte
}

func (g *docGen) space() {
	if g.r.IntN(4) == 0 {
		g.b = append(g.b, " \t\r\n"[g.r.IntN(4)])
	}
}

func (g *docGen) value(depth int) {
	g.space()
	kind := g.r.IntN(10)
	switch {
	case depth == 0:
		kind = g.r.IntN(2) // an object or a list, as payloads are
	case depth < 3:
		kind = g.r.IntN(7) // more containers near the top
	case depth >= 5:
		kind = 2 + g.r.IntN(8) // scalars only
	}
	switch kind {
	case 0:
		g.object(depth)
	case 1:
		g.list(depth)
	case 2, 3, 4:
		g.string()
	case 5, 6, 7:
		g.number()
	default:
		g.b = append(g.b, []string{"true", "false", "null"}[g.r.IntN(3)]...)
	}
	g.space()
}

var docKeys = []string{"0", "1", "2", "01", "-5", "-0", "+1", " 1", "", "a", "b", "job", "data",
	"9223372036854775807", "9223372036854775808", "-9223372036854775808", `k\u00e9`, "中", `\u0000x`}

func (g *docGen) object(depth int) {
	g.b = append(g.b, '{')
	n := g.r.IntN(7)
	listLike := g.r.IntN(3) == 0 // "0".."n-1", which PHP turns into a list
	for i := range n {
		if i > 0 {
			g.b = append(g.b, ',')
		}
		g.space()
		g.b = append(g.b, '"')
		switch {
		case listLike:
			g.b = strconv.AppendInt(g.b, int64(i), 10)
		case g.r.IntN(4) == 0:
			g.stringBody()
		default:
			g.b = append(g.b, docKeys[g.r.IntN(len(docKeys))]...)
		}
		g.b = append(g.b, '"')
		g.space()
		g.b = append(g.b, ':')
		g.value(depth + 1)
	}
	g.space()
	g.b = append(g.b, '}')
}

func (g *docGen) list(depth int) {
	g.b = append(g.b, '[')
	g.space()
	for i := range g.r.IntN(7) {
		if i > 0 {
			g.b = append(g.b, ',')
		}
		g.value(depth + 1)
	}
	g.b = append(g.b, ']')
}

var stringPieces = []string{"abc", "Hello World", "/", `\/`, `\"`, `\\`, `\b\f\n\r\t`, `\u0001`, `\u001F`,
	`\u007f`, "\x7f", "<b>&amp;</b> 'x'", "é", "中文", "\u2028", "\ufffd", "\ufeff", "😀", "𝄞", `\ud83d\ude00`,
	`\uD834\uDD1E`, `\u00e9`, `\u4E2D`, `\uffff`, `\u0000`, "app\\\\job\\\\Hello", "https://example.com/a?b=1&c=2"}

func (g *docGen) string() {
	g.b = append(g.b, '"')
	g.stringBody()
	g.b = append(g.b, '"')
}

func (g *docGen) stringBody() {
	for range g.r.IntN(5) {
		if g.r.IntN(5) == 0 {
			// any BMP character outside the surrogates, escaped
			r := g.r.IntN(0xf800)
			if r >= 0xd800 {
				r += 0x800
			}
			g.b = fmt.Appendf(g.b, `\u%04x`, r)
			continue
		}
		g.b = append(g.b, stringPieces[g.r.IntN(len(stringPieces))]...)
	}
}

var numberSpellings = []string{"0", "-0", "-0.0", "0.0", "1.0", "1e2", "1E+2", "1e-2", "15e-1", "0.1", "0.00001",
	"0.0001", "1e16", "1e17", "1e25", "9223372036854775807", "-9223372036854775808", "9223372036854775808",
	"-9223372036854775809", "12345678901234567890", "123456789012345678901234567890", "1.7976931348623157e308",
	"5e-324", "2.5E-5", "123456789.5", "100000000000000000000.0"}

func (g *docGen) number() {
	switch g.r.IntN(4) {
	case 0:
		g.b = append(g.b, numberSpellings[g.r.IntN(len(numberSpellings))]...)
	case 1:
		g.b = strconv.AppendInt(g.b, g.r.Int64N(2000)-1000, 10)
	case 2:
		g.b = strconv.AppendInt(g.b, int64(g.r.Uint64()), 10)
	default:
		f := randomFloat(g.r)
		g.b = strconv.AppendFloat(g.b, f, "gef"[g.r.IntN(3)], g.r.IntN(20)-1, 64)
	}
}

// randomFloat returns a float of a random magnitude between 1e-30 and 1e30 with few to many significant digits.
func randomFloat(r *rand.Rand) float64 {
	mantissa := r.Int64N(1_000_000_000_000_000_000)
	if r.IntN(2) == 0 {
		mantissa %= 10_000 // short decimals such as 1.5 or 0.0025
	}
	f, _ := strconv.ParseFloat(fmt.Sprintf("%de%d", mantissa, r.IntN(61)-30-r.IntN(19)), 64)
	if r.IntN(2) == 0 {
		f = -f
	}
	return f
}

// corrupt damages doc so that it is, most likely, no longer JSON PHP accepts.
func corrupt(r *rand.Rand, doc []byte) []byte {
	doc = bytes.Clone(doc)
	if len(doc) == 0 {
		return []byte{'x'}
	}
	i := r.IntN(len(doc))
	switch r.IntN(4) {
	case 0:
		return doc[:i]
	case 1:
		return append(doc[:i:i], append([]byte{"\xff\xc3\x01\x00,]}"[r.IntN(7)]}, doc[i:]...)...)
	case 2:
		raw, _ := hex.DecodeString("eda080") // a UTF-8 encoded surrogate
		return append(doc[:i:i], append(raw, doc[i:]...)...)
	default:
		return append(doc[:i:i], append([]byte(`"\ud800"`), doc[i:]...)...)
	}
}
