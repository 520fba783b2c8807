// Package timedelta owns Python's str(datetime.timedelta) of whole seconds,
// the uptime text of a RUNNING process's description ("pid 7, uptime
// 1 day, 2:03:04") that the daemon sends and the client's top shows.
package timedelta

import "strconv"

// String is str(timedelta(seconds=sec)): "0:00:14", "1 day, 2:03:04",
// "-1 day, 23:59:59".
func String(sec int64) string { return string(Append(nil, sec)) }

// Append appends String(sec) to dst: days are floored, the rest is never
// negative, as Python normalizes a timedelta.
func Append(dst []byte, sec int64) []byte {
	days, rem := sec/86400, sec%86400
	if rem < 0 {
		days, rem = days-1, rem+86400
	}
	if days == 1 || days == -1 {
		dst = strconv.AppendInt(dst, days, 10)
		dst = append(dst, " day, "...)
	} else if days != 0 {
		dst = strconv.AppendInt(dst, days, 10)
		dst = append(dst, " days, "...)
	}
	dst = strconv.AppendInt(dst, rem/3600, 10)
	m, s := rem%3600/60, rem%60
	return append(dst, ':', byte('0'+m/10), byte('0'+m%10), ':', byte('0'+s/10), byte('0'+s%10))
}
