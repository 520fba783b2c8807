package rpc

import (
	"math"

	"github.com/gosupervisor/gosupervisor/internal/faults"
	"github.com/gosupervisor/gosupervisor/internal/pyint"
)

// Python's loose argument handling, reproduced for the decoded value types.

// pyTruth is Python's bool(v).
func pyTruth(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case int64:
		return x != 0
	case float64:
		return x != 0
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return true
}

// pyInt is Python's int(v): a ValueError or TypeError as a *pyError, the
// latter flagged so dispatch can turn it into INCORRECT_PARAMETERS the way
// traverse() catches TypeError.
func pyInt(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case float64:
		if math.IsNaN(x) {
			return 0, &pyError{"ValueError", "cannot convert float NaN to integer"}
		}
		if math.IsInf(x, 0) {
			return 0, &pyError{"OverflowError", "cannot convert float infinity to integer"}
		}
		if x >= 9.2e18 || x <= -9.2e18 {
			return 0, &pyError{"OverflowError", "integer out of range"}
		}
		return int64(x), nil
	case string:
		n, err := pyint.Int64(x, 10)
		if err != nil {
			return 0, &pyError{"ValueError", err.Error()}
		}
		return n, nil
	}
	return 0, typeError()
}

// typeError is a Python TypeError raised inside a method: traverse()
// reports it as INCORRECT_PARAMETERS with no extra text.
func typeError() error { return NewFault(faults.IncorrectParameters) }
