package rpc

import (
	"os"
	"testing"

	"github.com/gosupervisor/gosupervisor/internal/testleak"
)

// TestMain fails the run if any test leaves a goroutine behind (a
// connection, stream or blocked call the server did not finish).
func TestMain(m *testing.M) {
	if sock := os.Getenv(peerChildEnv); sock != "" {
		peerChild(sock) // a re-executed client of TestPeerCredentials
	}
	testleak.Main(m)
}
