package logrot

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/testchild"
)

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second) // a bound for a hang, not a timing
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(s)
	f.Close()
}

func TestFollower(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.log")
	head := strings.Repeat("h", 1000)
	tail := strings.Repeat("t", 1024)
	appendFile(t, path, head+tail)
	fl, err := NewFollower(path, FollowHead)
	if err != nil {
		t.Fatal(err)
	}
	fl.SetInterval(2 * time.Millisecond)
	var out testchild.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fl.Run(ctx, &out) }()

	want := tail
	waitFor(t, "the last 1024 bytes", func() bool { return out.String() == want })

	appendFile(t, path, "new line\n")
	want += "new line\n"
	waitFor(t, "appended bytes", func() bool { return out.String() == want })

	os.WriteFile(path, []byte("ab"), 0o644) // truncated in place
	want += TruncatedMessage + "ab"
	waitFor(t, "the truncation notice", func() bool { return out.String() == want })

	// Rotation: the old file gets a last line, a new file appears.
	os.Rename(path, path+".1")
	appendFile(t, path+".1", "last old\n")
	appendFile(t, path, "first new\n")
	want += "last old\nfirst new\n"
	waitFor(t, "both files after rotation", func() bool { return out.String() == want })

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run after cancel: %v", err)
	}
	if got := out.String(); got != want {
		t.Fatalf("stream %q, want %q", got, want)
	}
}

func TestFollowerShortFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.log")
	appendFile(t, path, "short\n")
	fl, err := NewFollower(path, FollowHead)
	if err != nil {
		t.Fatal(err)
	}
	if fl.ModTime().IsZero() {
		t.Error("no ModTime")
	}
	errWrite := errors.New("client went away")
	var got []byte
	err = fl.Run(context.Background(), writerFunc(func(p []byte) (int, error) {
		got = append(got, p...)
		return 0, errWrite
	}))
	if !errors.Is(err, errWrite) || string(got) != "short\n" {
		t.Fatalf("Run = %v after %q; want the write error after the whole file", err, got)
	}
}

func TestFollowerMissing(t *testing.T) {
	if _, err := NewFollower(filepath.Join(t.TempDir(), "none.log"), FollowHead); !errors.Is(err, ErrNoFile) {
		t.Fatalf("err %v, want ErrNoFile", err)
	}
}

func TestFilesFollow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.log")
	appendFile(t, path, strings.Repeat("a", 2000))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out testchild.Buffer
	done := make(chan error, 1)
	go func() {
		done <- Files{Poll: time.Millisecond}.Follow(ctx, path, FollowHead, func(p []byte) error {
			out.Write(p)
			return nil
		})
	}()
	waitFor(t, "the head", func() bool { return out.String() == strings.Repeat("a", 1024) })
	appendFile(t, path, "b")
	waitFor(t, "new bytes", func() bool { return strings.HasSuffix(out.String(), "ab") })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := (Files{}).Follow(ctx, path+".none", FollowHead, nil); !errors.Is(err, ErrNoFile) {
		t.Fatalf("missing file: %v", err)
	}
}
