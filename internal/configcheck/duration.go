package configcheck

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Day is the unit the d suffix stands for.
const Day = 24 * time.Hour

// ParseDuration reads a duration as Go writes it (300ms, 30s, 1h30m) and,
// with days, also a whole number of days, alone or before the rest (90d,
// 1d12h). Its errors quote the value and give an example; a bare number is
// refused, because without a unit it would mean nanoseconds.
func ParseDuration(s string, days bool) (time.Duration, error) {
	units := "ms, s, m, h"
	example := "30s"
	if days {
		units += ", d"
		example = "30d"
	}
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("%q is not a duration; write a number with a unit, e.g. %s (units: %s)", s, example, units)
	}
	if _, err := strconv.ParseFloat(t, 64); err == nil && t != "0" {
		return 0, fmt.Errorf("%q has no unit, so it would mean nanoseconds; write the unit, e.g. %s%s (units: %s)", s, t, example[len(example)-1:], units)
	}
	var d time.Duration
	rest := t
	if n, after, ok := strings.Cut(t, "d"); ok && days {
		count, err := strconv.ParseUint(n, 10, 16)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration; write whole days before d, e.g. 90d or 1d12h", s)
		}
		d, rest = time.Duration(count)*Day, after
		if rest == "" {
			return d, nil
		}
	}
	g, err := time.ParseDuration(rest)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration; write a number with a unit, e.g. %s (units: %s)", s, example, units)
	}
	if g < 0 && d == 0 {
		return 0, fmt.Errorf("%q is negative; write a positive number with a unit, e.g. %s (units: %s)", s, example, units)
	}
	if g < 0 {
		return 0, fmt.Errorf("%q is not a duration; write whole days, then the rest without a sign, e.g. 1d12h", s)
	}
	return d + g, nil
}
