package xmlrpcvalue

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/pyrepr"
)

// Str is Python's str(v) for the decoded value types.
func Str(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case string:
		return x
	case bool:
		if x {
			return "True"
		}
		return "False"
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return pyrepr.Float(x)
	case time.Time:
		return x.Format("2006-01-02 15:04:05")
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = reprValue(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = pyrepr.Str(k) + ": " + reprValue(x[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return ""
}

// reprValue is Python's repr(v) inside a container's str().
func reprValue(v any) string {
	if s, ok := v.(string); ok {
		return pyrepr.Str(s)
	}
	if t, ok := v.(time.Time); ok {
		return "datetime.datetime(" + strconv.Itoa(t.Year()) + ", " + strconv.Itoa(int(t.Month())) + ", " +
			strconv.Itoa(t.Day()) + ", " + strconv.Itoa(t.Hour()) + ", " + strconv.Itoa(t.Minute()) + ", " + strconv.Itoa(t.Second()) + ")"
	}
	return Str(v)
}
