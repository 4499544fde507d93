package dashboard

import (
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge/status"
)

// Every string is in both languages.
func TestLanguagesHaveTheSameKeys(t *testing.T) {
	en, zh := slices.Sorted(maps.Keys(english.strings)), slices.Sorted(maps.Keys(chinese.strings))
	require.Equal(t, en, zh)
}

// The English dashboard words a verdict as the bridge does; the Chinese one has a sentence for every kind.
func TestVerdictText(t *testing.T) {
	few := []status.Reason{{Kind: status.ReasonShadowMismatches, N: 3, Of: 400}, {Kind: status.ReasonGoReleasesMore, GoPercent: 10, PHPPercent: 0.11},
		{Kind: status.ReasonFewGoRuns, N: 1300, Of: 10_000}}
	for _, c := range []struct {
		ready   bool
		reasons []status.Reason
	}{{true, []status.Reason{{Kind: status.ReasonAllGo}}}, {true, []status.Reason{{Kind: status.ReasonReady, N: 10_000}}},
		{false, few}, {false, []status.Reason{{Kind: status.ReasonGoFailsMore, GoPercent: 3, PHPPercent: 0.9}}}} {
		require.Equal(t, status.VerdictText(c.ready, c.reasons), verdictText(english, c.ready, c.reasons))
	}
	require.Equal(t, "尚未就绪：3 / 400 次影子运行的结果与 PHP 不同（0.75%）；Go 的运行释放率为 10.00%，PHP 为 0.11%；"+
		"Go 已运行此类任务 1300 次；需要 10000 次才足以下结论", verdictText(chinese, false, few))
	for kind := range status.ReasonFormats {
		text := verdictText(chinese, true, []status.Reason{{Kind: kind, N: 1, Of: 2}})
		require.NotContains(t, text, "verdict.", kind)
		require.NotContains(t, text, "%!", kind)
	}
}

// A class filter's hint never skips a payload of that class, however PHP escaped its name.
func TestClassHint(t *testing.T) {
	require.Equal(t, "Ship", string(classHint(`App\Jobs\Ship`)))
	require.Equal(t, "Ship@fire", string(classHint(`App\Jobs\Ship@fire`)))
	require.Nil(t, classHint(`App\Jobs\发货`), "PHP writes non-ASCII as \\uXXXX")
	require.Nil(t, classHint(`App\Jobs\`))
}
