// Package testleak owns the goroutine-leak check the test binaries run
// after their tests: goleak's, given the time a loaded box needs for the
// goroutines of the last test to finish.
package testleak

import (
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// Patience is how long Find keeps looking again while goroutines are
// left. goleak retries for about a second on its own; on a loaded 2-core
// box (CI) the goroutines of the last test may need longer to end. A
// leaked goroutine stays and is still reported.
const Patience = 30 * time.Second

// Find is goleak.Find, retried until no goroutine is left or Patience
// has passed.
func Find(opts ...goleak.Option) error {
	err := goleak.Find(opts...)
	for deadline := time.Now().Add(Patience); err != nil && time.Now().Before(deadline); err = goleak.Find(opts...) {
		time.Sleep(100 * time.Millisecond)
	}
	return err
}

// Main is goleak.VerifyTestMain with Find's patience: it runs the tests,
// then, when they passed, fails the run if goroutines are left.
func Main(m *testing.M, opts ...goleak.Option) {
	code := m.Run()
	if code == 0 {
		if err := Find(opts...); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: errors on successful test run: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}
