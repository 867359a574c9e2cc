package units

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	gounits "github.com/docker/go-units"
)

// ErrSyntax is wrapped by the errors of [ParseSize] and [ParseDuration] for
// text they cannot read.
var ErrSyntax = errors.New("invalid syntax")

// ParseSize reads a size in bytes: a plain number of bytes ("1048576") or a
// number with a unit ("512MiB", "10GB", "1.5g"). Units are powers of 1024
// whether or not they carry the "i", as docker builder prune --keep-storage
// and buildkitd.toml read them.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("size %q: %w: want a number of bytes or a number with a unit, e.g. 512MiB or 10GB", s, ErrSyntax)
	}
	n, err := gounits.RAMInBytes(t)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("size %q: %w: want a number of bytes or a number with a unit (B, KB, MB, GB, TB; KiB… read the same), e.g. 512MiB or 10GB", s, ErrSyntax)
	}
	return n, nil
}

// ParseDuration reads a duration: Go's syntax ("90m", "12h", "1h30m") plus
// days and weeks ("3d", "2w", "1d12h"). A day is 24 hours. Negative
// durations are refused.
func ParseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	fail := func() (time.Duration, error) {
		return 0, fmt.Errorf("duration %q: %w: want a number with a unit (s, m, h, d, w), e.g. 12h or 3d", s, ErrSyntax)
	}
	if t == "" || strings.HasPrefix(t, "-") {
		return fail()
	}
	if t == "0" {
		return 0, nil
	}
	var total time.Duration
	rest := t
	for rest != "" {
		// Take one number and its unit; days and weeks are ours, the rest
		// is Go's.
		i := 0
		for i < len(rest) && isNumber(rest[i]) {
			i++
		}
		j := i
		for j < len(rest) && !isNumber(rest[j]) {
			j++
		}
		if i == 0 || j == i {
			return fail()
		}
		num, unit := rest[:i], rest[i:j]
		rest = rest[j:]
		var d time.Duration
		switch unit {
		case "d", "w":
			f, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return fail()
			}
			day := 24 * time.Hour
			if unit == "w" {
				day *= 7
			}
			d = time.Duration(f * float64(day))
		default:
			var err error
			if d, err = time.ParseDuration(num + unit); err != nil {
				return fail()
			}
		}
		total += d
	}
	return total, nil
}

// isNumber reports whether c belongs to a duration's number.
func isNumber(c byte) bool { return c >= '0' && c <= '9' || c == '.' }

// FormatDuration writes d rounded for people: "45s", "12m", "5h", "3d".
func FormatDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Round(time.Second)/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	default:
		return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
	}
}
