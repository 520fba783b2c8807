//go:build !linux

package testchild

// BecomeSubreaper has no equivalent here: leaked processes are found only
// among direct children.
func BecomeSubreaper() error { return nil }
