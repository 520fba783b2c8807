package rpc

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if any test leaves a goroutine behind (a
// connection, stream or blocked call the server did not finish).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
