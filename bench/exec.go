package bench

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// runTo runs /bin/sh script with stdout to f.
func runTo(script string, f *os.File) error {
	cmd := exec.Command("/bin/sh", script)
	cmd.Stdout = f
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("run %s: %w: %s", script, err, stderr.String())
	}
	return nil
}
