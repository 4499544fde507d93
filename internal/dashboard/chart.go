package dashboard

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// chart is one series drawn as an inline SVG polyline (no script, no style attribute: the page's CSP
// allows neither inline), one point a minute.
type chart struct {
	Points string // the polyline's points, in a chartWidth × chartHeight box
	Max    string // the largest value, for the label
	Last   string // the latest minute's value
}

const (
	chartWidth  = 120
	chartHeight = 32
)

// trendCharts are a queue's processed-per-minute and average-wait series from since to now, a minute a
// point; minutes without a point count as zero.
func trendCharts(points []TrendPoint, since, now time.Time) (processed, wait chart) {
	n := int(now.Sub(since)/time.Minute) + 1
	if n < 2 {
		n = 2
	}
	proc, waits := make([]float64, n), make([]float64, n)
	for _, p := range points {
		i := int(p.Minute.Sub(since) / time.Minute)
		if i < 0 || i >= n {
			continue
		}
		proc[i] += float64(p.Processed)
		if p.WaitCount > 0 {
			waits[i] = (p.WaitSum / time.Duration(p.WaitCount)).Seconds()
		}
	}
	return line(proc, "%.0f"), line(waits, "%.1f")
}

func line(vals []float64, format string) chart {
	top := 0.0
	for _, v := range vals {
		top = max(top, v)
	}
	var b strings.Builder
	for i, v := range vals {
		x := float64(i) * chartWidth / float64(len(vals)-1)
		y := float64(chartHeight)
		if top > 0 {
			y = chartHeight - v/top*(chartHeight-2)
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatFloat(x, 'f', 1, 64) + "," + strconv.FormatFloat(y, 'f', 1, 64))
	}
	return chart{Points: b.String(), Max: fmt.Sprintf(format, top), Last: fmt.Sprintf(format, vals[len(vals)-1])}
}
